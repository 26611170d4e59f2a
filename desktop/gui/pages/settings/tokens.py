"""The Settings page's hub-token card: a token per hub for gated or private models, kept in
the server's keychain and never shown again."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QPushButton, QWidget

from desktop.api.admin import HubTokens, HubTokenSet, TokenState
from desktop.api.hubs import HUB_NAMES, HubName
from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import ServerSnapshot, SettingsSection
from desktop.gui.widgets.common import Banner, hint


def token_state(tokens: HubTokens, hub: HubName) -> TokenState:
    return tokens.huggingface if hub == "huggingface" else tokens.modelscope


class TokensSection(SettingsSection):
    """Save or remove each hub's token; the state says whether one is kept."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self.hint = hint(self)
        self.column.addWidget(self.hint)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.labels: dict[HubName, QLabel] = {}
        self.fields: dict[HubName, QLineEdit] = {}
        self.states: dict[HubName, QLabel] = {}
        self.save_buttons: dict[HubName, QPushButton] = {}
        self.remove_buttons: dict[HubName, QPushButton] = {}
        for row, hub in enumerate(HUB_NAMES):
            label = QLabel(self)
            token = QLineEdit(self)
            token.setEchoMode(QLineEdit.EchoMode.Password)
            state = QLabel(self)
            save = QPushButton(self)
            remove = QPushButton(self)
            save.clicked.connect(lambda _=False, name=hub: self.save(name))
            remove.clicked.connect(lambda _=False, name=hub: self.remove(name))
            grid.addWidget(label, row, 0)
            grid.addWidget(token, row, 1)
            grid.addWidget(save, row, 2)
            grid.addWidget(remove, row, 3)
            grid.addWidget(state, row, 4)
            self.labels[hub] = label
            self.fields[hub] = token
            self.states[hub] = state
            self.save_buttons[hub] = save
            self.remove_buttons[hub] = remove
        self.column.addLayout(grid)
        self._tokens: HubTokens | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Hub access tokens"))
        self.hint.setText(
            self.tr(
                "Only needed for gated or private models. Tokens are kept in the system "
                "keychain and are never shown again."
            )
        )
        self.labels["huggingface"].setText(self.tr("Hugging Face token"))
        self.labels["modelscope"].setText(self.tr("ModelScope token"))
        for hub in HUB_NAMES:
            self.fields[hub].setPlaceholderText(self.tr("Paste a token to save it"))
            self.save_buttons[hub].setText(self.tr("Save"))
            self.remove_buttons[hub].setText(self.tr("Remove"))
        self._show_states()

    def show_state(self, snapshot: ServerSnapshot | None) -> None:
        self.setEnabled(snapshot is None or snapshot.xindesk)
        if snapshot is not None:
            self._tokens = snapshot.tokens
        self._show_states()

    def _show_states(self) -> None:
        for hub in HUB_NAMES:
            state = token_state(self._tokens, hub) if self._tokens is not None else None
            if state is not None and state.set:
                text = self.tr("Saved")
            elif state is not None and state.environment:
                text = self.tr("From the server's environment")
            else:
                text = self.tr("Not set")
            self.states[hub].setText(text)
            self.remove_buttons[hub].setEnabled(state is not None and state.set)

    def save(self, hub: HubName) -> None:
        field = self.fields[hub]
        token = field.text().strip()
        if not token:
            self.banner.show_error(self.tr("Paste the token into the field first."))
            return
        # The token leaves the window at once: nothing shows it after this.
        field.clear()
        self.banner.clear()
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: client.set_hub_token(hub, token), self._done, self._failed)

    def remove(self, hub: HubName) -> None:
        self.banner.clear()
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: client.delete_hub_token(hub), self._done, self._failed)

    def _done(self, _result: HubTokenSet) -> None:
        self.reload_requested.emit()

    def _failed(self, message: str) -> None:
        self.banner.show_error(message)
