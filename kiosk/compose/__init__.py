"""The composition root's parts (kiosk/app.py puts them together): each builds one area's core
services over the devices and the store, hands them to its screens, and registers its
`kiosk tour` steps. The only modules besides kiosk/app.py that know every layer."""
