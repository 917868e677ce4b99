"""Simulators of the kiosk's devices and their fault controls: used by `kiosk sim`, the tour and the tests, never imported by product code."""
