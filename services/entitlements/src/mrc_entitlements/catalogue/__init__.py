"""The starter scheme catalogue shipped with the service (`starter.yaml`), parsed by the domain's loader."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import yaml

from mrc_entitlements.domain.catalogue import parse_catalogue
from mrc_entitlements.domain.schemes import Scheme

STARTER_CATALOGUE = "starter.yaml"


def starter_document() -> object:
    text = resources.files(__package__).joinpath(STARTER_CATALOGUE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def starter_catalogue(now: datetime) -> list[Scheme]:
    """The shipped schemes, each with rule version 1 published at `now` (to seed an empty catalogue)."""
    return parse_catalogue(starter_document(), now=now)
