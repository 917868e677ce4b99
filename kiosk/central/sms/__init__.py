"""The platform's SMS gateways, as plug-ins: the notifier hands each a `Sms` and gets a receipt or a
`SendError` that says whether to retry (base.py). Built in: `file` (development and tests), `webhook` (a
province's or hall's own SMS platform, HMAC-signed), `tencent` (Tencent Cloud SMS) and `aliyun`
(Alibaba Cloud SMS); docs/sms.md is the operator's guide. Plain Python and requests: no web framework."""
from kiosk.central.sms.base import (DEFAULT_TEMPLATE_PARAMS, TEMPLATES, Gateway, GatewaySettingsError, SendError, Sms,
                                    make_gateway, mask_phone)

__all__ = ["DEFAULT_TEMPLATE_PARAMS", "TEMPLATES", "Gateway", "GatewaySettingsError", "SendError", "Sms",
           "make_gateway", "mask_phone"]
