"""The pages in Spanish (issue 13): a browser whose language is Spanish gets the seeker page in
Spanish end to end, and the language of either page can be switched and is remembered.

The seeker's browser is es-ES: the page speaks Spanish, connects with lang=es and asks for a
Spanish-speaking volunteer; the volunteer's console (es-ES too) takes the chat; a message that
reads as risk brings up the crisis panel in Spanish, with Spain's lines. Screenshots land in
test-artifacts/.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot

CRISIS_TEXT_ES = "ya no quiero vivir, quiero matarme"


def sign_in_in_spanish(page: Page, web_url: str, email: str = people.VOLUNTEER) -> None:
    page.goto(urljoin(web_url, "volunteer.html"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña", exact=True).fill(people.PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", name="Tu disponibilidad")).to_be_visible()
    expect(page.get_by_label("Español")).to_be_checked()
    page.get_by_role("button", name="Empezar a recibir chats").click()
    expect(page.locator("#status-text")).to_contain_text("Estás recibiendo chats")


def test_the_spanish_seeker_page_end_to_end(new_context: Any, web_url: str) -> None:
    """Given a volunteer who speaks Spanish, on shift,
    When a seeker whose browser is Spanish opens the page, asks, chats and writes words of risk,
    Then every text they see is Spanish, they connect with lang=es and ask for Spanish, the
    volunteer gets the chat, the crisis panel speaks Spanish with Spain's lines, and the end too."""
    volunteer = new_context(locale="es-ES")
    console = volunteer.new_page()
    sign_in_in_spanish(console, web_url)

    seeker = new_context(locale="es-ES")
    page = seeker.new_page()
    sockets: list[str] = []
    sent: list[dict[str, Any]] = []

    def watch(ws: Any) -> None:
        sockets.append(ws.url)
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))

    page.on("websocket", watch)
    page.goto(web_url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_title("Kindred: habla con alguien que te escuche")
    expect(page.get_by_role("heading", name="Habla con alguien que te escuche")).to_be_visible()
    expect(page.get_by_role("button", name="Salida rápida")).to_be_visible()
    expect(page.get_by_role("button", name="¿Necesitas ayuda urgente?")).to_be_visible()
    expect(page.get_by_label("Idioma de tu chat")).to_have_value("es")
    expect(page.get_by_label("Idioma de esta página")).to_have_value("es")
    expect(
        page.get_by_role("group", name="¿Estás pensando en el suicidio en este momento?")
    ).to_be_visible()
    expect(page.locator("#intro-count")).to_have_text("0 de 500 caracteres")
    assert a11y_problems(page) == []
    screenshot(page, "seeker-spanish-welcome")

    page.get_by_label("Ansiedad", exact=True).check()
    intro = page.get_by_label("¿Hay algo que quieras que la persona voluntaria sepa primero?")
    expect(intro).to_have_attribute("dir", "auto")
    intro.fill("Últimamente el trabajo me supera.")
    expect(page.locator("#intro-count")).to_have_text("33 de 500 caracteres")
    page.get_by_role("button", name="Hablar con una persona voluntaria").click()

    expect(page.get_by_role("heading", name=re.compile("^Estás hablando con "))).to_be_visible()
    assert parse_qs(urlsplit(sockets[0]).query)["lang"] == ["es"]
    match = [frame for frame in sent if frame.get("action") == "match"]
    assert match and match[0]["language"] == "es" and match[0]["topics"] == ["anxiety"]
    expect(page.locator(".msg-system").first).to_contain_text("se ha unido. Saluda cuando quieras.")

    panel = people.chat_panel(console)
    expect(panel.locator("[data-role=intro]")).to_have_text("Últimamente el trabajo me supera.")
    expect(panel.locator("[data-role=topics]")).to_have_text("Temas: Ansiedad")
    expect(panel.get_by_role("button", name="Terminar el chat")).to_be_visible()

    message = page.get_by_label("Tu mensaje")
    expect(message).to_have_attribute("dir", "auto")
    expect(message).to_have_attribute("placeholder", "Escribe un mensaje…")
    message.fill("Hola, ¿hay alguien?")
    page.locator("#composer").get_by_role("button", name="Enviar").click()
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(["Hola, ¿hay alguien?"])
    expect(page.locator(".msg-mine .msg-who")).to_have_text(["Tú"])
    panel.get_by_label(re.compile("^Mensaje para ")).fill("Hola, estoy aquí y te escucho.")
    panel.get_by_role("button", name="Enviar").click()
    expect(page.locator(".msg-peer .msg-text")).to_have_text(["Hola, estoy aquí y te escucho."])
    expect(page.locator(".msg-peer .msg-text")).to_have_attribute("dir", "auto")

    # Words of risk: the crisis panel, in Spanish, with the lines of Spain (the browser's).
    message.fill(CRISIS_TEXT_ES)
    page.locator("#composer").get_by_role("button", name="Enviar").click()
    crisis = page.locator("#crisis-panel")
    expect(crisis).to_be_visible()
    expect(
        crisis.get_by_role("heading", name="No tienes que pasar por esto a solas")
    ).to_be_visible()
    expect(crisis).to_contain_text("Parece que las cosas están siendo muy difíciles ahora mismo.")
    expect(crisis).to_contain_text("Tu chat también sigue abierto.")
    expect(crisis).to_contain_text("Líneas para España.")
    expect(crisis.locator("a[href='tel:024']")).to_have_text("Llamar al 024")
    expect(crisis.get_by_role("button", name="Volver al chat")).to_be_visible()
    expect(crisis.locator(".emergency")).to_have_text(
        "Si estás en peligro inmediato, llama al número de emergencias de tu zona."
    )
    expect(panel.locator("[data-role=risk]")).to_be_visible()
    assert a11y_problems(page) == []
    screenshot(page, "seeker-spanish-crisis")
    screenshot(console, "volunteer-spanish-chat")

    crisis.get_by_role("button", name="Volver al chat").click()
    page.get_by_role("button", name="Terminar el chat").click()
    expect(page.get_by_role("heading", name="El chat ha terminado")).to_be_visible()
    expect(page.locator("#ended-reason")).to_have_text("Terminaste el chat.")
    expect(page.get_by_role("group", name="¿Cuánto te ayudó este chat?")).to_be_visible()
    expect(panel.locator("[data-role=panel-notice]")).to_contain_text("terminó el chat")
    screenshot(page, "seeker-spanish-ended")
    people.seeker_rates(page, 4, send="Enviar opinión", thanks="Gracias")
    assert_clean(volunteer, seeker)


def test_the_language_switches_on_both_pages_and_is_remembered(
    new_context: Any, web_url: str
) -> None:
    """Given an English browser,
    When the seeker switches the page to Spanish, reloads, and the supervisor switches the
    console to Spanish after signing in,
    Then every text and <html lang> follow at once, the chat's language follows the page's, the
    choice is remembered on the device, and switching back gives the English again."""
    seeker = new_context()
    page = seeker.new_page()
    page.goto(web_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Talk with someone who will listen")).to_be_visible()
    expect(page.get_by_label("Language for your chat")).to_have_value("en")

    page.get_by_label("Language of this page").select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Habla con alguien que te escuche")).to_be_visible()
    expect(page.get_by_label("Ansiedad", exact=True)).to_be_visible()
    expect(page.get_by_label("Idioma de tu chat")).to_have_value("es")
    expect(page.locator("#message")).to_have_attribute("placeholder", "Escribe un mensaje…")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Salida rápida")).to_be_visible()
    assert page.evaluate("localStorage.getItem('kindred.language')") == "es"
    # The chat's own language picked English: the page follows it too.
    page.get_by_label("Idioma de tu chat").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Quick exit")).to_be_visible()

    volunteer = new_context()
    console = volunteer.new_page()
    people.enter_credentials(console, web_url, people.SUPERVISOR)
    expect(console.get_by_role("heading", name="The board")).to_be_visible()
    expect(console.locator("#board-queue")).to_have_text("Nobody is waiting.")
    expect(console).to_have_title("Kindred: volunteer console")
    console.get_by_label("Language of this page").select_option("es")
    expect(console.locator("html")).to_have_attribute("lang", "es")
    expect(console.get_by_role("heading", name="El tablero")).to_be_visible()
    expect(console.locator("#board-queue")).to_have_text("No hay nadie esperando.")
    expect(console.locator("#who")).to_have_text(
        re.compile(r"^Sesión iniciada como .+ \(supervisor/a\)$")
    )
    expect(console.locator("#status-text")).to_have_text("No estás recibiendo chats.")
    expect(console.get_by_role("button", name="Empezar a recibir chats")).to_be_visible()
    expect(console).to_have_title("Kindred: consola de voluntariado")
    assert a11y_problems(console) == []
    screenshot(console, "console-spanish-board")
    console.get_by_label("Idioma de esta página").select_option("en")
    expect(console.get_by_role("heading", name="Your availability")).to_be_visible()
    expect(console.locator("#status-text")).to_have_text("You're not taking chats.")
    assert_clean(seeker, volunteer)
