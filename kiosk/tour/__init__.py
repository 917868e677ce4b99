"""`kiosk tour` and what it runs on: the driver of the real window, the steps listed flow by flow, the runner,
a virtual display, a private demo hall and a private CUPS. Never imported by product code.

runner.py      the flows, listed in the order they run, and running them (one PNG per step)
step.py        one step: act through the UI, then check what it shows
steps_*.py     the steps of each hall area (home and idle, pickup, hand-in, guides, documents, technician)
driver.py      the app's real window advanced frame by frame, touches injected, the clock moved
compose.py     the app built by the production composition root, plus the simulators' fault controls
xvfb.py        a virtual display where there is no screen
hall.py        a private demo hall: data dir, seeded reference platform, private CUPS queue
cupsd.py       a private CUPS daemon
"""
