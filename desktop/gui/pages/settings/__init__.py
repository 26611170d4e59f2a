"""The Settings page (`page.SettingsPage`) and its cards, one module each: `language`,
`server` (which server the window uses), `folder` (the models folder), `downloads`, `tokens`
(hub access tokens), `window` (tray and start at login) and `build` (what the server was built
for); `section` has what the cards share."""

from desktop.gui.pages.settings.page import SettingsPage

__all__ = ["SettingsPage"]
