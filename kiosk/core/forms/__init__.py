"""Forms filled in at the kiosk (自助填表): templates that ship with the guide catalog
(template.py), checking what is typed (validate.py), and the printed A4 form with a QR code
of its data for the window's system (render.py).
"""
