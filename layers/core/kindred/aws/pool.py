"""The VolunteerPool port on DynamoDB: volunteers' slots (POOL) and supervisors on shift (SHIFT)."""

from __future__ import annotations

from kindred.aws import layout
from kindred.aws.table import TableAdapter, names
from kindred.records import Connection, Tags, VolunteerSlot


class DynamoPool(TableAdapter):
    """Implements kindred.ports.VolunteerPool."""

    def set_availability(
        self, conn: Connection, *, available: bool, capacity: int, languages: Tags, topics: Tags
    ) -> VolunteerSlot:
        resp = self.table.update(
            layout.key(layout.POOL_PK, conn.connection_id),
            UpdateExpression=(
                "SET #available = :available, #capacity = :capacity, #languages = :languages, "
                "#topics = :topics, #userId = :userId, #role = :role, #alias = :alias, "
                "#active = if_not_exists(#active, :zero), "
                "#idleSince = if_not_exists(#idleSince, :now), #expiresAt = :expiresAt"
            ),
            ExpressionAttributeNames=names(
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
            ),
            ExpressionAttributeValues=layout.attribute_values(
                {
                    ":available": available,
                    ":capacity": capacity,
                    ":languages": list(languages),
                    ":topics": list(topics),
                    ":userId": conn.user_id,
                    ":role": conn.role,
                    ":alias": conn.alias,
                    ":zero": 0,
                    ":now": self.table.now_ms(),
                    ":expiresAt": self.table.connection_expiry(),
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return layout.slot_from_item(layout.from_item(resp["Attributes"]))

    def get_slot(self, connection_id: str) -> VolunteerSlot | None:
        data = self.table.get(layout.key(layout.POOL_PK, connection_id))
        return layout.slot_from_item(data) if data else None

    def available_volunteers(self) -> list[VolunteerSlot]:
        slots = (layout.slot_from_item(d) for d in self.table.query_partition(layout.POOL_PK))
        return [s for s in slots if s.free_slots > 0]

    def volunteers_on_shift(self) -> int:
        return sum(
            1
            for d in self.table.query_partition(layout.POOL_PK)
            if layout.slot_from_item(d).available
        )

    def remove_slot(self, connection_id: str) -> None:
        self.table.delete(layout.key(layout.POOL_PK, connection_id))

    def on_shift_supervisors(self) -> list[str]:
        return [d["sk"] for d in self.table.query_partition(layout.SHIFT_PK)]

    def join_shift(self, connection_id: str) -> None:
        self.table.put(layout.shift_item(connection_id, expires_at=self.table.connection_expiry()))

    def leave_shift(self, connection_id: str) -> None:
        self.table.delete(layout.key(layout.SHIFT_PK, connection_id))
