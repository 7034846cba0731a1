import jwt
import pytest

from mrc_access.adapters.bearer_auth import InsufficientScope, InvalidBearerToken
from mrc_access.domain.partner import PartnerKind
from mrc_access.service_layer.administration import CreateClient, CreatePartner
from mrc_access.service_layer.tokens import InvalidClient, InvalidScope, InvalidTarget
from mrc_kernel import claims
from mrc_kernel.roles import Role, Scope, scopes_for
from tests.unit.access.fakes import OPERATOR, OPERATOR_ID, OPERATOR_SECRET, START, TTL_SECONDS, Platform


def decode_unverified(token: str) -> dict[str, object]:
    payload: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return payload


def employer_client(platform: Platform) -> tuple[str, str]:
    partner = platform.administration.create_partner(
        CreatePartner(
            name="Kiln Co",
            kind=PartnerKind.EMPLOYER,
            state_codes=("10",),
            district_codes=("212",),
            employer_id="emp-42",
            caller_partner_id="operators",
        ),
        OPERATOR,
    ).partner
    issued = platform.administration.create_client(CreateClient(partner.partner_id, (Role.EMPLOYER,)), OPERATOR)
    return issued.client.client_id, issued.client_secret


def test_token_carries_exactly_the_shared_claims() -> None:
    platform = Platform()
    client_id, secret = employer_client(platform)
    issued = platform.tokens.issue(client_id, secret)
    header = jwt.get_unverified_header(issued.access_token)
    assert header["alg"] == "ES256" and header["kid"] == platform.key_ring.signing_key().kid
    token = decode_unverified(issued.access_token)
    expected_scope = " ".join(sorted(s.value for s in scopes_for({Role.EMPLOYER})))
    now = int(START.timestamp())
    assert token == {
        "iss": claims.ISSUER,
        "sub": client_id,
        "aud": list(claims.SERVICE_AUDIENCES),
        "iat": now,
        "nbf": now,
        "exp": now + TTL_SECONDS,
        "jti": "jti-1",
        claims.PARTNER: platform.clients.clients[client_id].partner_id,
        claims.PARTNER_KIND: "employer",
        claims.ROLES: ["employer"],
        claims.SCOPE: expected_scope,
        claims.STATES: ["10"],
        claims.DISTRICTS: ["212"],
        claims.EMPLOYER: "emp-42",
    }
    assert issued.expires_in == TTL_SECONDS and issued.scope == expected_scope


def test_only_employer_partners_get_an_employer_claim() -> None:
    token = decode_unverified(Platform().operator_token())
    assert claims.EMPLOYER not in token
    assert token[claims.PARTNER_KIND] == "operator"
    assert token[claims.STATES] == [] and token[claims.DISTRICTS] == []


def test_audience_can_be_narrowed_to_known_services_only() -> None:
    platform = Platform()
    token = decode_unverified(platform.operator_token(audience="mrc-registry  mrc-access mrc-registry"))
    assert token["aud"] == ["mrc-registry", "mrc-access"]
    with pytest.raises(InvalidTarget):
        platform.operator_token(audience="mrc-registry https://elsewhere.example")


def test_scope_can_be_narrowed_never_widened() -> None:
    platform = Platform()
    assert decode_unverified(platform.operator_token(scope="partners:admin"))["scope"] == "partners:admin"
    with pytest.raises(InvalidScope):
        platform.operator_token(scope="partners:admin workers:read")


def test_wrong_secret_unknown_or_revoked_client_is_invalid_client() -> None:
    platform = Platform()
    client_id, secret = employer_client(platform)
    with pytest.raises(InvalidClient):
        platform.tokens.issue(client_id, secret + "x")
    with pytest.raises(InvalidClient):
        platform.tokens.issue("nobody", secret)
    platform.administration.revoke_client(client_id, OPERATOR)
    with pytest.raises(InvalidClient):
        platform.tokens.issue(client_id, secret)


def test_verifier_accepts_a_fresh_token_and_reports_its_scopes() -> None:
    platform = Platform()
    caller = platform.verifier.verify_authorization(f"Bearer {platform.operator_token()}")
    assert caller.client_id == OPERATOR_ID and caller.partner_id == "operators"
    caller.require(Scope.PARTNERS_ADMIN)
    caller.require(Scope.AUDIT_READ)
    with pytest.raises(InsufficientScope):
        caller.require(Scope.WORKERS_READ)


def test_expiry_and_not_before_allow_thirty_seconds_of_skew() -> None:
    platform = Platform()
    token = platform.operator_token()
    platform.clock.advance(-29)
    platform.verifier.verify(token)
    platform.clock.advance(29 + TTL_SECONDS + 29)
    platform.verifier.verify(token)
    platform.clock.advance(1)
    with pytest.raises(InvalidBearerToken, match="expired"):
        platform.verifier.verify(token)


def test_token_for_other_services_only_is_refused_here() -> None:
    platform = Platform()
    with pytest.raises(InvalidBearerToken, match=r"(?i)audience"):
        platform.verifier.verify(platform.operator_token(audience="mrc-registry"))


def test_token_of_a_revoked_client_is_refused() -> None:
    platform = Platform()
    token = platform.operator_token()
    platform.administration.revoke_client(OPERATOR_ID, OPERATOR)
    with pytest.raises(InvalidBearerToken, match="revoked"):
        platform.verifier.verify(token)


def test_forged_tampered_and_malformed_tokens_are_refused() -> None:
    platform = Platform()
    token = platform.operator_token()
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    unsigned = jwt.encode(decode_unverified(token), key="", algorithm="none")
    hmac_signed = jwt.encode(
        decode_unverified(token),
        key="k" * 32,
        algorithm="HS256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    for bad in (tampered, unsigned, hmac_signed, "not-a-jwt", ""):
        with pytest.raises(InvalidBearerToken):
            platform.verifier.verify(bad)
    for header_value in (None, "", "Basic abc", "Bearer", f"Token {token}"):
        with pytest.raises(InvalidBearerToken) as error:
            platform.verifier.verify_authorization(header_value)
        assert not error.value.token_sent


def test_another_issuers_key_is_refused() -> None:
    platform, impostor = Platform(), Platform()
    with pytest.raises(InvalidBearerToken):
        platform.verifier.verify(impostor.tokens.issue(OPERATOR_ID, OPERATOR_SECRET).access_token)
