"""The service guides' area: the catalog as the kiosk stores it (catalog.py), pinyin and typo-tolerant
search over it (search.py), what a citizen does with a guide (flow.py: GuideFlow) and the guide on
paper, receipt and A4 (printout.py). Plain Python; the screens are kiosk/screens/guides*.py."""
