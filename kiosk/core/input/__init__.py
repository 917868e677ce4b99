"""Chinese input for the kiosk's forms: pinyin candidates (pinyin.py) and handwriting recognition
(handwriting.py). Neither imports Kivy; the on-screen keyboard and the writing pad
(kiosk/screens/) ask them for candidates. Both open their data when a form is being filled and
close it after the visit, so the UI pays for them only while they are in use.
"""
