"""Rebuilds the name-matching evaluation files in this folder from their public sources.

Not run by the benchmark: the files it writes are committed. Run it only to regenerate them, with the
two source files at hand (see README.md for where they come from):

    uv run python bench/data/names/prepare.py AFFIDAVITS_CSV DAKSHINA_DIR PARLIKAR_TSV

* AFFIDAVITS_CSV: ``indicate/data/affidavits.csv`` of in-rolls/indicate;
* DAKSHINA_DIR: a folder holding ``<lang>.translit.sampled.{train,dev,test}.tsv`` of the Dakshina
  lexicons (Google Research Dakshina v1.0, ``<lang>/lexicons/``), Hindi's ``train`` and ``dev`` too;
* PARLIKAR_TSV: the shared Parlikar first-name list (used only to decide which Dakshina words are names).

Splits are fixed by rule, never by looking at results:
* affidavits: a constituency is TUNING when ``crc32("state|constituency") % 10 < 3``, else HELD-OUT;
* Dakshina: words of Dakshina's own ``dev`` split are TUNING, those of ``train`` and ``test`` HELD-OUT;
* Dakshina Hindi (round 3): the words of Dakshina's Hindi ``train`` and ``dev`` lexicons are the FRESH
  held-out split, run once with the final rules of round 3 (Hindi ``test`` is the shared corpus the
  first rules were tuned on, and is not read here).
"""

from __future__ import annotations

import csv
import sys
import unicodedata
import zlib
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAKSHINA_LANGUAGES = ("bn", "gu", "kn", "ml", "mr", "pa", "ta", "te")
# Dakshina Hindi lexicons no round tuned on or evaluated before round 3: the fresh held-out split.
FRESH_LANGUAGE, FRESH_SPLITS = "hi", ("train", "dev")
AFFIDAVIT_FIELDS = ("state", "district", "age", "name_latin", "name_devanagari", "father_latin", "father_devanagari")


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).replace("\t", " ").split())


def affidavit_split(state: str, constituency: str) -> str:
    return "tuning" if zlib.crc32(f"{state}|{constituency}".encode()) % 10 < 3 else "heldout"


def prepare_affidavits(source: Path) -> None:
    rows: dict[str, list[tuple[str, ...]]] = {"tuning": [], "heldout": []}
    seen: set[tuple[str, ...]] = set()
    with source.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            state, constituency = _clean(record["state"]), _clean(record["assembly_constituency"])
            row = (
                state,
                constituency,
                _clean(record["age"]),
                _clean(record["name_english"]),
                _clean(record["name_hindi"]),
                _clean(record["fathers_or_husbands_name_english"]),
                _clean(record["fathers_or_husbands_name_hindi"]),
            )
            if not (row[3] and row[4] and row[2].isdigit()):
                continue
            # One candidate files one affidavit per nomination: keep each person once.
            identity = (state, constituency, row[2], " ".join(row[3].upper().replace(".", " ").split()))
            if identity in seen:
                continue
            seen.add(identity)
            rows[affidavit_split(state, constituency)].append(row)
    for split, split_rows in rows.items():
        _write(HERE / f"affidavits_2021_{split}.tsv", AFFIDAVIT_FIELDS, sorted(split_rows))


def prepare_dakshina(folder: Path, parlikar: Path) -> None:
    lines = parlikar.read_text(encoding="utf-8").split("\n")[1:]
    names = {line.split("\t")[0].strip().lower() for line in lines if line.strip()}
    out: dict[str, list[tuple[str, ...]]] = {"tuning": [], "heldout": [], "fresh": []}
    for lang in DAKSHINA_LANGUAGES:
        for source_split in ("train", "dev", "test"):
            out["tuning" if source_split == "dev" else "heldout"].extend(
                _dakshina_names(folder, lang, source_split, names)
            )
    for source_split in FRESH_SPLITS:
        out["fresh"].extend(_dakshina_names(folder, FRESH_LANGUAGE, source_split, names))
    header = ("lang", "native", "latin", "attestations")
    for split, split_rows in out.items():
        name = "dakshina_hindi_fresh.tsv" if split == "fresh" else f"dakshina_names_{split}.tsv"
        _write(HERE / name, header, sorted(split_rows))


def _dakshina_names(folder: Path, lang: str, source_split: str, names: set[str]) -> list[tuple[str, ...]]:
    """The rows of one Dakshina lexicon whose native word has a romanisation in the first-name list."""
    lexicon: dict[str, list[tuple[str, str]]] = defaultdict(list)
    path = folder / f"{lang}.translit.sampled.{source_split}.tsv"
    for line in path.read_text(encoding="utf-8").split("\n"):
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0] and fields[1]:
            lexicon[_clean(fields[0])].append((fields[1].strip().lower(), fields[2].strip()))
    rows: list[tuple[str, ...]] = []
    for native, romans in lexicon.items():
        if any(roman in names for roman, _ in romans):
            rows.extend((lang, native, roman, count) for roman, count in romans)
    return rows


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")
    print(f"{path.name}: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    prepare_affidavits(Path(sys.argv[1]))
    prepare_dakshina(Path(sys.argv[2]), Path(sys.argv[3]))
