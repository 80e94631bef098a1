"""The VolunteerPool port on DynamoDB: volunteers' slots (POOL), supervisors on shift (SHIFT)
and each staff account's care record (CARE#<user id>: its shift and pause)."""

from __future__ import annotations

from typing import Any

from kindred.aws import layout
from kindred.aws.table import TableAdapter, names
from kindred.records import CareRecord, Connection, Offer, VolunteerSlot


class DynamoPool(TableAdapter):
    """Implements kindred.ports.VolunteerPool."""

    def set_availability(
        self, conn: Connection, offer: Offer, care: CareRecord | None = None
    ) -> VolunteerSlot:
        update = (
            "SET #available = :available, #capacity = :capacity, #languages = :languages, "
            "#topics = :topics, #userId = :userId, #role = :role, #alias = :alias, "
            "#active = if_not_exists(#active, :zero), "
            "#idleSince = if_not_exists(#idleSince, :now), #expiresAt = :expiresAt"
        )
        attributes = [
            "available",
            "capacity",
            "languages",
            "topics",
            "userId",
            "role",
            "alias",
            "active",
            "idleSince",
            "expiresAt",
        ]
        values: dict[str, Any] = {
            ":available": offer.available,
            ":capacity": offer.capacity,
            ":languages": list(offer.languages),
            ":topics": list(offer.topics),
            ":userId": conn.user_id,
            ":role": conn.role,
            ":alias": conn.alias,
            ":zero": 0,
            ":now": self.table.now_ms(),
            ":expiresAt": self.table.connection_expiry(),
        }
        if care is not None:
            update += ", #onShiftSince = :onShiftSince"
            attributes.append("onShiftSince")
            values[":onShiftSince"] = care.on_shift_since_ms
            if care.paused_until is not None:
                update += ", #pausedUntil = :pausedUntil"
                attributes.append("pausedUntil")
                values[":pausedUntil"] = care.paused_until
        resp = self.table.update(
            layout.key(layout.POOL_PK, conn.connection_id),
            UpdateExpression=update,
            ExpressionAttributeNames=names(*attributes),
            ExpressionAttributeValues=layout.attribute_values(values),
            ReturnValues="ALL_NEW",
        )
        return layout.slot_from_item(layout.from_item(resp["Attributes"]))

    def get_slot(self, connection_id: str) -> VolunteerSlot | None:
        data = self.table.get(layout.key(layout.POOL_PK, connection_id))
        return layout.slot_from_item(data) if data else None

    def available_volunteers(self) -> list[VolunteerSlot]:
        slots = (layout.slot_from_item(d) for d in self.table.query_partition(layout.POOL_PK))
        return [s for s in slots if s.free_slots > 0]

    def slots_on_shift(self, *, practice: bool = False) -> list[VolunteerSlot]:
        slots = (layout.slot_from_item(d) for d in self.table.query_partition(layout.POOL_PK))
        return [s for s in slots if s.available and s.practice == practice]

    def remove_slot(self, connection_id: str) -> None:
        self.table.delete(layout.key(layout.POOL_PK, connection_id))

    def on_shift_supervisors(self) -> list[str]:
        return [d["sk"] for d in self.table.query_partition(layout.SHIFT_PK)]

    def join_shift(self, connection_id: str) -> None:
        self.table.put(layout.shift_item(connection_id, expires_at=self.table.connection_expiry()))

    def leave_shift(self, connection_id: str) -> None:
        self.table.delete(layout.key(layout.SHIFT_PK, connection_id))

    # -- care for volunteers (kindred.care) ----------------------------------------------------

    def account_slots(self, user_id: str) -> list[VolunteerSlot]:
        slots = (layout.slot_from_item(d) for d in self.table.query_partition(layout.POOL_PK))
        return [s for s in slots if s.user_id == user_id]

    def get_care(self, user_id: str) -> CareRecord | None:
        data = self.table.get(layout.care_key(user_id))
        return layout.care_from_item(data) if data else None

    def _care_expiry(self) -> int:
        return self.table.now() + self.table.care_ttl

    def put_care(self, record: CareRecord) -> None:
        # UpdateItem, not PutItem: every function that writes it may already update items.
        values = layout.care_values(record)
        present = {k: v for k, v in values.items() if v is not None}
        absent = [k for k, v in values.items() if v is None]
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in [*present, "expiresAt"])
        if absent:
            update += " REMOVE " + ", ".join(f"#{k}" for k in absent)
        self.table.update(
            layout.care_key(record.user_id),
            UpdateExpression=update,
            ExpressionAttributeNames=names(*values, "expiresAt"),
            ExpressionAttributeValues=layout.attribute_values(
                {f":{k}": v for k, v in present.items()} | {":expiresAt": self._care_expiry()}
            ),
        )

    def note_off_shift(self, user_id: str, at_ms: int) -> None:
        self.table.update_if(
            layout.care_key(user_id),
            UpdateExpression="SET #offShiftSince = :at, #expiresAt = :expires",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#offShiftSince)",
            ExpressionAttributeNames=names("offShiftSince", "expiresAt"),
            ExpressionAttributeValues=layout.attribute_values(
                {":at": at_ms, ":expires": self._care_expiry()}
            ),
        )

    def pause(self, user_id: str, until: int) -> list[VolunteerSlot]:
        """One UpdateItem of the care record (made if missing: a reconnection finds the pause),
        one Query of the pool, one conditional UpdateItem per slot of the account (one, as a
        rule)."""
        later = "attribute_not_exists(#pausedUntil) OR #pausedUntil < :until"
        self.table.update_if(
            layout.care_key(user_id),
            UpdateExpression="SET #pausedUntil = :until, #userId = :user, #expiresAt = :expires",
            ConditionExpression=later,
            ExpressionAttributeNames=names("pausedUntil", "userId", "expiresAt"),
            ExpressionAttributeValues=layout.attribute_values(
                {":until": until, ":user": user_id, ":expires": self._care_expiry()}
            ),
        )
        slots = []
        for slot in self.account_slots(user_id):
            outcome = self.table.update_if(
                layout.key(layout.POOL_PK, slot.connection_id),
                UpdateExpression="SET #pausedUntil = :until",
                ConditionExpression=f"attribute_exists(pk) AND ({later})",
                ExpressionAttributeNames=names("pausedUntil"),
                ExpressionAttributeValues=layout.attribute_values({":until": until}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            if outcome.item and self.table.alive(outcome.item):
                slots.append(layout.slot_from_item(outcome.item))
        return slots

    def note_cap_told(self, user_id: str, on_shift_since_ms: int, stage: int) -> bool:
        return self.table.update_if(
            layout.care_key(user_id),
            UpdateExpression="SET #capTold = :stage, #expiresAt = :expires",
            ConditionExpression=(
                "#onShiftSince = :since AND (attribute_not_exists(#capTold) OR #capTold < :stage)"
            ),
            ExpressionAttributeNames=names("capTold", "onShiftSince", "expiresAt"),
            ExpressionAttributeValues=layout.attribute_values(
                {":stage": stage, ":since": on_shift_since_ms, ":expires": self._care_expiry()}
            ),
        ).written
