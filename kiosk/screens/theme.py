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
HELP = _hex("#B3261E")           # "Call staff": white on it is 6.5:1
HELP_PRESSED = _hex("#8C1D18")
SCRIM = _hex("#0B1E33", 0.72)    # behind the idle warning
RULE = _hex("#C7D1DB")            # a divider between blocks of text; not the edge of anything tappable
EDGE = _hex("#6F7F90")            # the outline of a neutral control (a card, a row, a box): 3.75:1 on
                                  # BACKGROUND, 4.1:1 on SURFACE, 3.3:1 on ACCENT_SOFT (WCAG 1.4.11: 3:1)

# base sizes before dp()/sp() and before the elder scale
TOUCH_MIN_DP = 60                # never smaller, in any mode
BUTTON_DP = 88
HEADER_DP = 120
PAD_DP = 48
PAGE_TOP_DP = 40                 # a citizen's page: from the header to its title, and under its action bar
PAGE_GAP_DP = 24                 # a citizen's page: between its title, step line, instruction and content
CHIP_DP = 72
# the home screen: the room between its blocks, and the service tiles (kiosk/screens/home.py)
HOME_GAP_DP = 32
TILE_DP = 200                    # a tile's preferred height; it grows to 1.5 times this where there is room
TILE_GAP_DP = 24                 # between tiles
TILE_PAD_X_DP = 24               # inside a tile, around its title and reason
TILE_PAD_Y_DP = 10
TILE_SPACING_DP = 4              # between a tile's title and its reason

# the type scale, in sp before the elder scale: every text of the citizen's screens is one of
# these sizes. Few sizes read calmer, and each size on screen (and each size times the elder
# scale) is a font face the text renderer keeps open, about 350 KB each.
SMALL_SP = 28                    # captions, chips, the header
BODY_SP = 34
BUTTON_SP = 38                   # buttons; also the larger body text (guide names, details)
LEAD_SP = 44                     # headlines inside a page, the service tiles, the search keys
HEADING_SP = 52                  # page titles beside a back button, the search box
TITLE_SP = 60                    # page titles, the keypads' digits
DISPLAY_S_SP = 72                # figures: a print reference
DISPLAY_M_SP = 96                # a pickup code being typed, an amount to pay
DISPLAY_L_SP = 128               # the clock, a pickup code issued
DISPLAY_XL_SP = 160              # countdowns
DISPLAY_XXL_SP = 200             # the door number
TYPE_SCALE = (SMALL_SP, BODY_SP, BUTTON_SP, LEAD_SP, HEADING_SP, TITLE_SP,
              DISPLAY_S_SP, DISPLAY_M_SP, DISPLAY_L_SP, DISPLAY_XL_SP, DISPLAY_XXL_SP)
CHIP_SP = SMALL_SP
