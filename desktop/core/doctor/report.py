"""The doctor's report: sections with a verdict each, as JSON and as aligned text.

Every section says `ok`, `warn` (works, but worth knowing: no keychain, no GPU found, a hub
unreachable), `fail` (something needed to run models here is broken) or `skip` (not checked,
e.g. `--offline`). The report is fine, and `xindesk doctor` exits 0, when no section failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop import __version__

Status = Literal["ok", "warn", "fail", "skip"]
SCHEMA = 1
# The order sections are shown in, and their titles.
TITLES = {
    "build": "This build",
    "backend": "Backend",
    "devices": "Devices",
    "memory": "Memory",
    "keyring": "Keychain",
    "models_folder": "Models folder",
    "server": "Server",
    "hubs": "Model hubs",
}


@dataclass
class Section:
    """One check's verdict.

    Attributes:
        name: Its key in the JSON report ("backend", ...).
        status: ok, warn, fail or skip.
        summary: One line a person reads first.
        details: The facts behind it (JSON-ready values).
        lines: More lines for the text report (shown under the summary).
    """

    name: str
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "summary": self.summary, **self.details}


@dataclass
class DoctorReport:
    """All sections of one run."""

    sections: list[Section]
    generated_at: float = field(default_factory=time.time)

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    @property
    def problems(self) -> list[str]:
        """The failed sections, each as "Title: summary"."""
        return [f"{s.title}: {s.summary}" for s in self.sections if s.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: one object per section under its name, then the verdict."""
        data: dict[str, Any] = {"schema": SCHEMA, "xindesk": __version__}
        data["generated_at"] = self.generated_at
        for section in self.sections:
            data[section.name] = section.to_dict()
        data["ok"] = self.ok
        data["problems"] = self.problems
        data["checks"] = [
            {"name": s.name, "title": s.title, "status": s.status, "summary": s.summary}
            for s in self.sections
        ]
        return data

    def render_text(self) -> str:
        """The report as aligned text: a title column, a status column, the summary, and any
        further lines indented under it; then the verdict."""
        width = max(len(s.title) for s in self.sections) if self.sections else 0
        status_width = max(len("warn"), *(len(s.status) for s in self.sections))
        indent = " " * (width + status_width + 4)
        out = [f"XinDesk doctor ({__version__})", ""]
        for section in self.sections:
            out.append(
                f"{section.title.ljust(width)}  {section.status.upper().ljust(status_width)}  "
                f"{section.summary}"
            )
            out.extend(f"{indent}{line}" for line in section.lines)
        out.append("")
        problems = self.problems
        if problems:
            noun = "problem" if len(problems) == 1 else "problems"
            out.append(f"{len(problems)} {noun} found:")
            out.extend(f"  - {problem}" for problem in problems)
        else:
            warnings = sum(s.status == "warn" for s in self.sections)
            tail = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            out.append(f"Everything needed to run models here is in order{tail}.")
        return "\n".join(out)
