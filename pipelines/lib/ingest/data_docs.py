"""great-expectations Data Docs of the nightly validations, under `$OVERDUE_HOME/out/data_docs/`.

The validation results are kept in a great-expectations file context at
`$OVERDUE_HOME/great_expectations/` (so the index lists every night validated so far) and rendered
by its site builder into `out/data_docs/` (`index.html`, one page per feed and night). A result is
stored only after it is cleaned: for a column the contract flags as personal data no value is
kept, only counts and row numbers, and every other value is written plainly (`ge_suite.plain`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines.lib.ingest.contracts import Contract
from pipelines.lib.ingest.ge_suite import ROW_ID, great_expectations, plain

SITE = "overdue"
VALUE_KEYS = ("partial_unexpected_list", "unexpected_list")
COUNT_KEYS = ("partial_unexpected_counts",)
INDEX_KEYS = ("partial_unexpected_index_list", "unexpected_index_list")


@dataclass(frozen=True)
class PublishedDocs:
    index: Path
    pages: dict[date, Path]


def _unexpected_rows(entries, personal: bool) -> list[dict]:
    """The first ten unexpected rows: the row number, and the value unless it is personal."""
    rows = []
    for entry in (entries or [])[:10]:
        if isinstance(entry, dict) and ROW_ID in entry:
            rows.append({ROW_ID: int(entry[ROW_ID]), **({} if personal else {
                k: plain(v) for k, v in entry.items() if k != ROW_ID})})
    return rows


def clean_result(validation, contract: Contract):
    """A copy of a validation result fit to publish: no value of a personal-data column, the
    full unexpected lists cut to the partial ones (10 rows), every value plain text."""
    cleaned = copy.deepcopy(validation)
    personal = contract.personal_columns
    for item in cleaned.results:
        result = item.result or {}
        column = (item.expectation_config.meta or {}).get("column")
        result.pop("unexpected_list", None)
        result["unexpected_index_list"] = _unexpected_rows(
            result.get("partial_unexpected_index_list") or result.get("unexpected_index_list"),
            column in personal)
        result["partial_unexpected_index_list"] = list(result["unexpected_index_list"])
        result.pop("unexpected_index_query", None)
        if column in personal:
            for key in (*VALUE_KEYS, *COUNT_KEYS):
                result.pop(key, None)
            result["details"] = {"values": "not shown: personal data (the contract's flag)"}
        else:
            if "partial_unexpected_list" in result:
                result["partial_unexpected_list"] = [
                    plain(v) for v in result["partial_unexpected_list"][:10]]
            if "partial_unexpected_counts" in result:
                result["partial_unexpected_counts"] = [
                    {"value": plain(c.get("value")), "count": int(c.get("count", 0))}
                    for c in result["partial_unexpected_counts"][:10]]
        if "observed_value" in result:
            result["observed_value"] = ("not shown: personal data" if column in personal
                                        else plain(result["observed_value"]))
        item.result = result
    return cleaned


def _context(home: Path):
    gx = great_expectations()
    context = gx.get_context(mode="file", project_root_dir=str(home / "great_expectations"))
    site_config = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(home / "out" / "data_docs")},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.get_config().data_docs_sites or {}
    if SITE not in sites:
        context.add_data_docs_site(site_name=SITE, site_config=site_config)
    elif sites[SITE].get("store_backend", {}).get("base_directory") != str(
            home / "out" / "data_docs"):
        # the context file stores the site's absolute folder: a home that was moved or copied
        # would otherwise publish into the old home's out/
        context.update_data_docs_site(site_name=SITE, site_config=site_config)
    return context


def publish(home: Path, contract: Contract, validations: list[tuple[date, object]]) -> PublishedDocs:
    """Store each night's cleaned result (a rerun of a night replaces its page) and rebuild the
    site: the index and the pages of these nights."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _context(home)
    keys = {}
    for night, validation in validations:
        suite = f"{contract.feed}_contract_v{contract.version.replace('.', '_')}"
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
            run_id=RunIdentifier(run_name=night.isoformat(), run_time=datetime(
                night.year, night.month, night.day, tzinfo=UTC)),
            batch_identifier=f"{contract.feed}-{night.isoformat()}")
        cleaned = clean_result(validation, contract)
        markers = {**(cleaned.meta or {}).get("batch_markers", {}),
                   "ge_load_time": key.run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ")}
        cleaned.meta = {**(cleaned.meta or {}), "run_id": key.run_id, "batch_markers": markers,
                        "feed": contract.feed, "night": night.isoformat(),
                        "contract_version": contract.version}
        context.validation_results_store.set(key, cleaned)
        keys[night] = key
    context.build_data_docs(site_names=[SITE], resource_identifiers=list(keys.values()))
    root = home / "out" / "data_docs"
    pages = {night: Path(context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)[0][
        "site_url"].removeprefix("file://")) for night, key in keys.items()}
    for page in [root / "index.html", *pages.values()]:
        _settle(page)
    return PublishedDocs(index=root / "index.html", pages=pages)


LOGO_QUERY = re.compile(r"(logo-long\.png)\?[^\"]*")
BLOCK_ID = re.compile(r"(collapse-body-)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def _settle(page: Path) -> None:
    """The same validation renders the same page: the site builder stamps its logo's address
    with the build time and a random context id, and gives collapsible blocks random ids; those
    become plain (numbered in order), so a rerun of a night leaves its page unchanged."""
    if not page.is_file():
        return
    numbers: dict[str, str] = {}
    html = LOGO_QUERY.sub(r"\1", page.read_text(encoding="utf-8"))
    html = BLOCK_ID.sub(lambda m: m.group(1) + numbers.setdefault(m.group(2), str(len(numbers))),
                        html)
    page.write_text(html, encoding="utf-8")
