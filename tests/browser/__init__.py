"""The member, editor and administrator journeys in a real headless Chromium,
in English and in Arabic, with screenshots and axe-core accessibility checks."""
