"""The look of the kiosk: a calm palette with strong contrast, and the base sizes.

Colours are RGBA tuples for Kivy. Text on a background meets WCAG AA (4.5:1)
or better; the sizes are for a 1080x1920 portrait screen read at arm's length.
Sizes in .kv files are multiplied by `app.scale` (1.0, or `[ui] elder_scale`
in elder mode).
"""


def _hex(code: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    code = code.lstrip("#")
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255, alpha)


BACKGROUND = _hex("#F2F5F8")     # a cool off-white; less glare than pure white under hall lighting
SURFACE = _hex("#FFFFFF")
HEADER = _hex("#17467A")         # deep civic blue; white on it is 9.6:1
ON_HEADER = _hex("#FFFFFF")
ON_HEADER_SOFT = _hex("#C9D8EA")
TEXT = _hex("#1B2733")           # 13.9:1 on BACKGROUND
TEXT_SOFT = _hex("#4A5968")      # 6.6:1 on BACKGROUND
ACCENT = _hex("#1E64B4")         # buttons; white on it is 5.9:1
ACCENT_PRESSED = _hex("#164C8A")
ACCENT_SOFT = _hex("#DCE8F6")
DISABLED = _hex("#D5DBE1")
ON_DISABLED = _hex("#4A5968")
CAUTION = _hex("#9A4A00")        # the countdown figure; 6.3:1 on white
SCRIM = _hex("#0B1E33", 0.72)    # behind the idle warning
RULE = _hex("#C7D1DB")

# base sizes before dp()/sp() and before the elder scale
TOUCH_MIN_DP = 60                # never smaller, in any mode
BUTTON_DP = 88
HEADER_DP = 120
PAD_DP = 48
TITLE_SP = 60
BODY_SP = 34
SMALL_SP = 28
CLOCK_SP = 128
BUTTON_SP = 38
CHIP_DP = 72
CHIP_SP = 28
