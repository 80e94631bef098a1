"""The Impact port on DynamoDB: one item of counts per calendar month, under TTL."""

from __future__ import annotations

from datetime import UTC, datetime

from kindred.aws import layout
from kindred.aws.table import TableAdapter
from kindred.impact import CheckinTally, month_after

# A month's totals are kept this long after the month ends (two years: a month can be read
# beside the same month a year before), then TTL removes them.
KEPT_AFTER_MONTH_SECONDS = 731 * 86400


def expiry_of(month: str) -> int:
    """When a month's totals expire (epoch seconds)."""
    ends = datetime.strptime(month_after(month), "%Y-%m").replace(tzinfo=UTC)
    return int(ends.timestamp()) + KEPT_AFTER_MONTH_SECONDS


class DynamoImpact(TableAdapter):
    """Implements kindred.ports.Impact."""

    def add_checkins(self, month: str, tally: CheckinTally) -> None:
        if tally.is_empty():
            return
        # One UpdateItem, no read: ADD counts (the item is made by the first).
        self.table.update(
            layout.impact_month_key(month),
            **layout.checkin_tally_update(tally, expires_at=expiry_of(month)),
        )

    def checkin_totals(self, month: str) -> CheckinTally:
        data = self.table.get(layout.impact_month_key(month))
        return CheckinTally() if data is None else layout.checkin_tally_from_item(data)
