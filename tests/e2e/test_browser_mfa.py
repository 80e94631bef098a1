"""A new volunteer's first sign-in in a real browser, with MFA required (issue 11).

The stack of this module runs with `VolunteerMfa=ON`, as deployed (the shared local stack runs
OPTIONAL so that scripts sign the demo accounts in without a challenge). An account of its own
is made as docs/operations.md says (AdminCreateUser with a temporary password, then the group):
the console asks for a new password, sets up TOTP (Cognito's key shown as text and as an
otpauth:// link), takes a code, and the volunteer gets on shift; the next sign-in asks for a
code, and a wrong one is refused. The local Cognito (moto) checks TOTP codes
(MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP) against the key it hands out; the test computes each
code from the key the page shows, RFC 6238 with the standard library.
"""

from __future__ import annotations

import base64
import hmac
import struct
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import Watched, a11y_problems, assert_clean, screenshot
from tests.e2e.conftest import E2EStack

EMAIL = "new.volunteer@example.org"
TEMPORARY = "Temporary-Pass-1"
CHOSEN = "Chosen-By-Ana-2!"
# This module's own local stack (tests/e2e/conftest.py): MFA required, as the template's default.
STACK_PARAMETERS = {"VolunteerMfa": "ON"}


def totp(secret: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for this base32 key (RFC 6238, SHA-1, 30 s)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_code(secret: str) -> str:
    """A code with at least 5 s of its 30 s left, so it is still valid when Cognito reads it."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    return totp(secret)


def test_totp_matches_rfc_6238() -> None:
    """The test's own TOTP, checked against RFC 6238's SHA-1 vector (59 s -> 94287082)."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at=59) == "287082"


def test_a_new_volunteer_sets_a_password_and_mfa_then_gets_on_shift(
    local_stack: E2EStack, web_url: str, new_context: Any
) -> None:
    """Given an account made with AdminCreateUser (a temporary password) in group volunteers,
    When the volunteer signs in on the console, chooses a password, adds the key to an
    authenticator app and enters its code,
    Then they are in the console and can start taking chats; signing in again asks for a code,
    refuses a wrong one and accepts the right one."""
    stack = local_stack.stack
    cognito, pool = stack.client("cognito-idp"), stack.environment["COGNITO_USER_POOL_ID"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=EMAIL,
        TemporaryPassword=TEMPORARY,
        UserAttributes=[
            {"Name": "email", "Value": EMAIL},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": "Ana"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=EMAIL, GroupName="volunteers")
    watched: Watched = new_context()
    console: Page = watched.new_page()

    people.enter_credentials(console, web_url, EMAIL, TEMPORARY)

    expect(console.get_by_role("heading", name="Choose your password")).to_be_visible()
    console.get_by_label("New password", exact=True).fill(CHOSEN)
    console.get_by_label("New password again").fill(CHOSEN + "x")
    console.get_by_role("button", name="Set password").click()
    expect(console.locator("#newpw-error")).to_contain_text("not the same")
    console.get_by_label("New password again").fill(CHOSEN)
    console.get_by_role("button", name="Set password").click()

    expect(console.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    secret = console.locator("#mfa-secret").inner_text().strip()
    assert len(secret) >= 8
    uri = console.get_by_role("link", name="Open in an authenticator app").get_attribute("href")
    assert uri is not None and uri.startswith("otpauth://totp/Kindred%3A")
    assert f"secret={secret}" in uri
    assert a11y_problems(console) == []
    screenshot(console, "volunteer-mfa-setup")
    console.get_by_label("The 6-digit code the app shows").fill(fresh_code(secret))
    console.get_by_role("button", name="Verify and sign in").click()

    expect(console.get_by_role("heading", name="Your availability")).to_be_visible()
    console.get_by_role("button", name="Start taking chats").click()
    expect(console.locator("#status-text")).to_contain_text("You're taking chats")
    screenshot(console, "volunteer-mfa-on-shift")

    # The next sign-in: password, then a code (a wrong one first). Signing out after a shift
    # asks how they are first (issue 12's end-of-shift check-in).
    console.get_by_role("button", name="Sign out").click()
    checkin = console.get_by_role("region", name="How are you?")
    checkin.get_by_role("button", name="I'm OK").click()
    expect(console.get_by_role("heading", name="Volunteer sign in")).to_be_visible()
    console.get_by_label("E-mail").fill(EMAIL)
    console.get_by_label("Password", exact=True).fill(CHOSEN)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Enter your code")).to_be_visible()
    right = fresh_code(secret)
    console.get_by_label("The 6-digit code from your authenticator app").fill(
        "000000" if right != "000000" else "111111"
    )
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator("#mfa-error")).to_contain_text("isn't right")
    screenshot(console, "volunteer-mfa-wrong-code")
    # moto spends the sign-in's session on a wrong code, as Cognito may: start again.
    if console.get_by_role("heading", name="Enter your code").is_visible():
        console.get_by_label("The 6-digit code from your authenticator app").fill(
            fresh_code(secret)
        )
        console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Your availability")).to_be_visible()
    # The wrong code is a 400 from Cognito, which Chromium logs as a failed resource.
    watched.errors[:] = [e for e in watched.errors if "status of 400" not in e]
    assert_clean(watched)
