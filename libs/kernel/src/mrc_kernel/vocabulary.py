"""Words every service uses the same way: the sectors migrants work in, gender as recorded."""

from __future__ import annotations

import enum


class Sector(enum.StrEnum):
    """Broad sectors where internal migrants work (after the PLFS/NIC groups)."""

    CONSTRUCTION = "construction"
    AGRICULTURE = "agriculture"
    BRICK_KILN = "brick_kiln"
    DOMESTIC_WORK = "domestic_work"
    MANUFACTURING = "manufacturing"
    HOSPITALITY = "hospitality"
    TEXTILES = "textiles"
    FISHERIES = "fisheries"
    MINING = "mining"
    OTHER = "other"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    TRANSGENDER = "transgender"
    UNDISCLOSED = "undisclosed"
