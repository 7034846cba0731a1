from datetime import UTC, datetime

import pytest

from mrc_access.domain.client import Client, ClientIssued, ClientRevoked
from mrc_access.domain.geography import Geography
from mrc_access.domain.partner import Partner, PartnerKind, PartnerRegistered
from mrc_access.service_layer.administration import CreateClient, CreatePartner
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, NotFound
from mrc_kernel.roles import Role
from tests.unit.access.fakes import OPERATOR, Platform

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BIHAR, PATNA, ARARIA = "10", "212", "188"
MAHARASHTRA, AHMEDNAGAR = "27", "466"


def partner(
    kind: PartnerKind = PartnerKind.CSO, states: tuple[str, ...] = (), districts: tuple[str, ...] = ()
) -> Partner:
    return Partner.register(
        partner_id="p-1",
        name="  Aajeevika   Bureau ",
        kind=kind,
        state_codes=states,
        district_codes=districts,
        employer_id="emp-1" if kind is PartnerKind.EMPLOYER else "",
        now=NOW,
    )


def issue(p: Partner, roles: tuple[Role | None, ...] = (Role.CASEWORKER,), **geo: tuple[str, ...]) -> Client:
    return Client.issue(
        client_id="c-1",
        partner=p,
        roles=roles,
        state_codes=geo.get("states", ()),
        district_codes=geo.get("districts", ()),
        display_name="field app",
        secret_hash="h",
        now=NOW,
    )


def violations(error: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {v.field for v in error.value.violations}


def test_partner_registration_normalises_and_raises_an_event() -> None:
    p = partner(states=(BIHAR, BIHAR), districts=(PATNA,))
    assert p.name == "Aajeevika Bureau"
    assert p.geography == Geography((BIHAR,), (PATNA,))
    assert p.pending_events == [PartnerRegistered(p)]


def test_partner_input_is_checked_against_lgd_and_kind() -> None:
    with pytest.raises(InvalidArgument) as error:
        Partner.register(
            partner_id="p",
            name=" ",
            kind=None,
            state_codes=("99",),
            district_codes=("0",),
            employer_id="e",
            now=NOW,
        )
    assert violations(error) == {"name", "kind", "state_codes", "district_codes", "employer_id"}
    with pytest.raises(InvalidArgument) as error:
        Partner.register(
            partner_id="p", name="Brick kiln", kind=PartnerKind.EMPLOYER, state_codes=(), district_codes=(),
            employer_id="", now=NOW,
        )  # fmt: skip
    assert violations(error) == {"employer_id"}


def test_a_district_outside_the_listed_states_or_a_state_without_listed_district_is_refused() -> None:
    _, problems = Geography.parse((MAHARASHTRA,), (PATNA,))
    assert [v.field for v in problems] == ["district_codes", "state_codes"]
    geography, problems = Geography.parse((), (PATNA, ARARIA))
    assert problems == [] and geography == Geography((BIHAR,), (ARARIA, PATNA))


def test_client_inherits_or_narrows_the_partner_geography() -> None:
    p = partner(states=(BIHAR, MAHARASHTRA), districts=(PATNA, ARARIA, AHMEDNAGAR))
    assert issue(p).geography == p.geography
    assert issue(p, states=(BIHAR,)).geography == Geography((BIHAR,), (ARARIA, PATNA))
    assert issue(p, districts=(PATNA,)).geography == Geography((BIHAR,), (PATNA,))


def test_client_geography_wider_than_the_partner_is_refused() -> None:
    bihar_only = partner(states=(BIHAR,))
    with pytest.raises(InvalidArgument) as error:
        issue(bihar_only, states=(MAHARASHTRA,))
    assert violations(error) == {"state_codes"}
    patna_only = partner(states=(BIHAR,), districts=(PATNA,))
    with pytest.raises(InvalidArgument) as error:
        issue(patna_only, districts=(ARARIA,))
    assert violations(error) == {"district_codes"}


def test_roles_must_suit_the_partner_kind() -> None:
    with pytest.raises(InvalidArgument) as error:
        issue(partner(PartnerKind.EMPLOYER), roles=(Role.EMPLOYER, Role.CASEWORKER))
    assert "caseworker" in str(error.value)
    with pytest.raises(InvalidArgument):
        issue(partner(PartnerKind.CSO), roles=(Role.OPERATOR,))
    with pytest.raises(InvalidArgument):
        issue(partner(), roles=())
    with pytest.raises(InvalidArgument):
        issue(partner(), roles=(None,))
    assert issue(partner(), roles=(Role.REGISTRAR, Role.REGISTRAR)).roles == (Role.REGISTRAR,)


def test_revocation_raises_one_event() -> None:
    client = issue(partner())
    assert client.pending_events == [ClientIssued(client)]
    client.pending_events.clear()
    assert client.revoke(NOW) and client.revoked_at == NOW
    assert not client.revoke(NOW)
    assert client.pending_events == [ClientRevoked(client)]


def create_partner(**overrides: object) -> CreatePartner:
    fields: dict[str, object] = {
        "name": "Aajeevika Bureau",
        "kind": PartnerKind.CSO,
        "state_codes": (BIHAR,),
        "district_codes": (),
        "employer_id": "",
        "caller_partner_id": "operators",
        "idempotency_key": "k-1",
    }
    fields.update(overrides)
    return CreatePartner(**fields)  # type: ignore[arg-type]


def test_partner_creation_is_idempotent_per_key() -> None:
    platform = Platform()
    events_before = len(platform.partners.outbox)
    first = platform.administration.create_partner(create_partner(), OPERATOR)
    again = platform.administration.create_partner(create_partner(), OPERATOR)
    assert first.created and not again.created
    assert again.partner.partner_id == first.partner.partner_id
    assert len(platform.partners.outbox) == events_before + 1
    with pytest.raises(IdempotencyKeyReused):
        platform.administration.create_partner(create_partner(name="Someone else"), OPERATOR)
    other_caller = platform.administration.create_partner(create_partner(caller_partner_id="ops-2"), OPERATOR)
    assert other_caller.created


def test_client_creation_returns_the_secret_once_and_stores_only_its_hash() -> None:
    platform = Platform()
    p = platform.administration.create_partner(create_partner(), OPERATOR).partner
    issued = platform.administration.create_client(CreateClient(p.partner_id, (Role.CASEWORKER,)), OPERATOR)
    stored = platform.clients.clients[issued.client.client_id]
    assert issued.client_secret not in stored.secret_hash
    assert stored.secret_hash.startswith("scrypt$")
    assert isinstance(platform.clients.outbox[-1], ClientIssued)
    with pytest.raises(NotFound):
        platform.administration.create_client(CreateClient("nope", (Role.CASEWORKER,)), OPERATOR)


def test_revoking_twice_publishes_once() -> None:
    platform = Platform()
    p = platform.administration.create_partner(create_partner(), OPERATOR).partner
    client_id = platform.administration.create_client(
        CreateClient(p.partner_id, (Role.CASEWORKER,)), OPERATOR
    ).client.client_id
    first = platform.administration.revoke_client(client_id, OPERATOR)
    second = platform.administration.revoke_client(client_id, OPERATOR)
    assert first.revoked and second.revoked
    assert sum(isinstance(e, ClientRevoked) for e in platform.clients.outbox) == 1


def test_bootstrap_operator_is_idempotent_and_follows_a_changed_secret() -> None:
    platform = Platform()
    operator = platform.clients.clients["mrc-operator"]
    assert operator.roles == (Role.OPERATOR,) and operator.partner_id == "operators"
    assert platform.partners.partners["operators"].kind is PartnerKind.OPERATOR
    platform.administration.ensure_bootstrap_operator("mrc-operator", "dev-operator-secret")
    assert platform.clients.clients["mrc-operator"].secret_hash == operator.secret_hash
    assert len(platform.partners.outbox) == 1 and len(platform.clients.outbox) == 1
    platform.administration.ensure_bootstrap_operator("mrc-operator", "rotated")
    assert platform.tokens.issue("mrc-operator", "rotated").access_token
