"""Every text of the dashboard pages, in English and Dutch: key → (English, Dutch).

`tests/hq/web/test_i18n_pages.py` fails when a key the templates or views use is
missing here, or when a text is the same in both languages without being listed as
such (a forgotten translation).
"""

from __future__ import annotations

CATALOG: dict[str, tuple[str, str]] = {
    # frame
    "app.title": ("Touchpoint head office", "Touchpoint hoofdkantoor"),
    "nav.overview": ("Stores", "Winkels"),
    "nav.chain": ("Chain", "Keten"),
    "nav.logout": ("Log out", "Uitloggen"),
    "nav.user": ("Logged in as {name}", "Ingelogd als {name}"),
    "nav.skip": ("Skip to content", "Naar de inhoud"),
    "nav.main": ("Main menu", "Hoofdmenu"),
    "lang.label": ("Language", "Taal"),
    "updated": ("Updated", "Bijgewerkt"),
    "refresh.failed": ("Could not refresh; retrying", "Verversen mislukt; nieuwe poging"),
    "refresh.live": ("Live: refreshes every {n} s", "Live: ververst elke {n} s"),
    "just_now": ("just now", "zojuist"),
    "unit.minutes": ("{n} min", "{n} min"),
    # overview
    "overview.title": ("Stores today", "Winkels vandaag"),
    "overview.summary": ("{n} stores, {off} offline", "{n} winkels, {off} offline"),
    "overview.empty": ("No stores to show.", "Geen winkels om te tonen."),
    "overview.search": ("Find a store (id or name)", "Zoek een winkel (code of naam)"),
    "overview.find": ("Find", "Zoeken"),
    "overview.page": ("page {page} of {pages}", "pagina {page} van {pages}"),
    "overview.prev": ("Previous page", "Vorige pagina"),
    "overview.next": ("Next page", "Volgende pagina"),
    "overview.order": (
        "Stores with open alerts first, then those not online, then by id.",
        "Winkels met open meldingen eerst, dan die niet online zijn, dan op code.",
    ),
    "overview.caption": (
        "Each store's own day, against the same weekday last week",
        "De eigen dag van elke winkel, tegen dezelfde weekdag vorige week",
    ),
    "col.store": ("Store", "Winkel"),
    "col.status": ("Status", "Status"),
    "col.seen": ("Last seen", "Laatst gezien"),
    "col.backlog": ("Backlog", "Achterstand"),
    "col.visitors_today": ("Visitors today", "Bezoekers vandaag"),
    "col.visitors_lw": ("Last week", "Vorige week"),
    "col.change": ("Change", "Verschil"),
    "col.conversion_today": ("Conversion today", "Conversie vandaag"),
    "col.conversion_lw": ("Last week", "Vorige week"),
    "col.identification": ("Identified", "Herkend"),
    "col.nps_week": ("NPS (7 days)", "NPS (7 dagen)"),
    "col.alerts": ("Open alerts", "Open meldingen"),
    "col.figure": ("Figure", "Cijfer"),
    "col.today": ("Today", "Vandaag"),
    "col.last_week": ("Same day last week", "Zelfde dag vorige week"),
    "col.period": ("Last 30 days", "Laatste 30 dagen"),
    "col.device": ("Device", "Apparaat"),
    "col.state": ("State", "Toestand"),
    "col.detail": ("Detail", "Toelichting"),
    "col.since": ("Since", "Sinds"),
    "col.rank": ("Rank", "Plaats"),
    # status
    "status.online": ("online", "online"),
    "status.offline": ("offline", "offline"),
    "status.never": ("never seen", "nooit gezien"),
    "status.gaps": ("Open sequence gaps", "Open gaten in de reeks"),
    "alerts.none": ("none", "geen"),
    "alert.offline": ("offline too long", "te lang offline"),
    "alert.door_silent": ("door counter silent", "deurteller stil"),
    "alert.imbalance": ("in/out imbalance at closing", "in/uit uit balans bij sluiting"),
    "alert.gap": ("events missing for over an hour", "gebeurtenissen ruim een uur zoek"),
    "alert.dead_letters": ("messages refused", "berichten geweigerd"),
    "alerts.chain": ("Head-office alerts", "Meldingen van het hoofdkantoor"),
    "alerts.open": ("Open alerts", "Open meldingen"),
    "devstate.ok": ("ok", "in orde"),
    "devstate.connected": ("connected", "verbonden"),
    "devstate.disconnected": ("disconnected", "niet verbonden"),
    "devstate.error": ("error", "fout"),
    "devstate.degraded": ("degraded", "verminderd"),
    "devstate.alarm": ("alarm", "alarm"),
    # store page
    "store.title": ("Store {name}", "Winkel {name}"),
    "store.day": ("Today is {day} here", "Vandaag is het hier {day}"),
    "store.not_found": (
        "No such store, or not yours to see.",
        "Deze winkel bestaat niet of is niet voor u.",
    ),
    "section.today": ("Today", "Vandaag"),
    "section.status": ("Connection", "Verbinding"),
    "section.cc": ("Click & collect and kiosk", "Click & collect en kiosk"),
    "section.quality": ("Data quality", "Kwaliteit van de gegevens"),
    "section.devices": ("Devices (last report)", "Apparaten (laatste melding)"),
    "section.charts": ("Charts", "Grafieken"),
    "devices.none": ("No device has reported yet.", "Nog geen apparaat heeft zich gemeld."),
    "quality.provisional": ("Provisional buckets (30 days)", "Voorlopige perioden (30 dagen)"),
    # chain page
    "chain.title": ("Chain today", "Keten vandaag"),
    "chain.stores": ("Stores reporting today", "Winkels met cijfers vandaag"),
    "chain.rank_conversion": ("Stores by conversion today", "Winkels op conversie vandaag"),
    "chain.all": ("Show all {n} stores", "Toon alle {n} winkels"),
    "chain.rank_change": (
        "Stores by change in visitors (against last week)",
        "Winkels op verschil in bezoekers (tegen vorige week)",
    ),
    "chain.scope": (
        "The roll-up of the {n} stores you may see.",
        "Het totaal van de {n} winkels die u mag zien.",
    ),
    # charts
    "chart.today": ("Today", "Vandaag"),
    "chart.last_week": ("Same day last week", "Zelfde dag vorige week"),
    "chart.hourly": ("Visitors per hour", "Bezoekers per uur"),
    "chart.hour": ("Hour", "Uur"),
    "chart.trend": (
        "Visitors and conversion, last 30 days",
        "Bezoekers en conversie, laatste 30 dagen",
    ),
    # figures (docs/metrics.md)
    "fig.visitors": ("Visitors", "Bezoekers"),
    "fig.entries": ("Entries", "Binnengekomen"),
    "fig.exits": ("Exits", "Vertrokken"),
    "fig.transactions": ("Transactions", "Transacties"),
    "fig.conversion": ("Conversion", "Conversie"),
    "fig.identification_rate": ("Identification rate", "Herkenningsgraad"),
    "fig.identified_visits": ("Identified visits", "Herkende bezoeken"),
    "fig.matched_visits": ("Matched to a profile", "Gekoppeld aan een profiel"),
    "fig.nps": ("NPS", "NPS"),
    "fig.nps_responses": ("NPS answers", "NPS-antwoorden"),
    "fig.kiosk_sessions": ("Kiosk sessions", "Kiosksessies"),
    "fig.kiosk_orders": ("Kiosk orders", "Kioskbestellingen"),
    "fig.pickups_ready": ("Orders ready for pick-up", "Bestellingen klaar om op te halen"),
    "fig.pickups_collected": ("Orders collected", "Bestellingen opgehaald"),
    "fig.no_shows": ("Not collected (no-show)", "Niet opgehaald"),
    "fig.wait_median_s": ("Median wait at pick-up", "Mediane wachttijd bij ophalen"),
    "fig.counting_accuracy": ("Counting accuracy (in = out)", "Telnauwkeurigheid (in = uit)"),
    "fig.events": ("Events", "Gebeurtenissen"),
    "fig.untrusted_clock_events": (
        "Events with an unsynchronised clock",
        "Gebeurtenissen met ongesynchroniseerde klok",
    ),
    "fig.untrusted_clock_share": (
        "Share with an unsynchronised clock",
        "Aandeel met ongesynchroniseerde klok",
    ),
    "fig.excluded_events": (
        "Events left out (impossible time)",
        "Weggelaten gebeurtenissen (onmogelijke tijd)",
    ),
}

# Texts that are rightly the same in both languages.
SAME_IN_BOTH = {
    "status.online", "status.offline", "col.status", "fig.nps", "unit.minutes",
    "devstate.alarm",
}  # fmt: skip
