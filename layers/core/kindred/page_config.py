"""What config.json tells the pages of the deployment's edges: country, hours, crisis lines.

The page shows the crisis lines of the seeker's own country, chosen in the browser, and never
tells the server where the seeker is: so it is given the whole directory. The console is given
the referral directory, from the file whose ids the server accepts in `referral`. `local/` and
`tools/web_config.py` both build config.json with this.
"""

from __future__ import annotations

from typing import Any

from kindred import hours
from kindred.referrals import page_directory
from kindred.safety import crisis_directory

# API Gateway closes a WebSocket connection after 2 hours, whatever is said on it (a fixed
# quota): the console renews its connection before then (docs/protocol.md, "Config").
MAX_CONNECTION_SECONDS = 2 * 60 * 60


def page_config(
    default_country: str,
    opening_hours: str,
    return_key_days: str = "",
    max_connection_seconds: float = MAX_CONNECTION_SECONDS,
) -> dict[str, Any]:
    """`defaultCountry` (may be ""), `crisisLines` by country, `referrals` (the referral
    directory), `returnKeyDays` (0: the seeker page offers no return key; "" is a stack from
    before issue 13), `maxConnectionSeconds` (the gateway's longest connection), and `hours`
    unless open 24/7."""
    schedule = hours.parse(opening_hours)
    return {
        "defaultCountry": default_country,
        "returnKeyDays": int(return_key_days or 0),
        "maxConnectionSeconds": max_connection_seconds,
        "crisisLines": crisis_directory(),
        "referrals": page_directory(),
        **({"hours": schedule.to_json()} if schedule is not None else {}),
    }
