"""Forms of the notification pages."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from ..forms import Form
from ..models import DeliveryMode
from .service import Category

MODE_CHOICES = [
    SelectChoice(DeliveryMode.email.value, "Email and in-app"),
    SelectChoice(DeliveryMode.in_app.value, "In-app only"),
    SelectChoice(DeliveryMode.off.value, "Off"),
]


class CalendarForm(Form):
    action = SelectField(
        "Action",
        choices=[
            SelectChoice("regenerate", "Create a new link"),
            SelectChoice("revoke", "Turn the link off"),
        ],
        validators=[InputRequired()],
    )


def preferences_form(categories: Iterable[Category], current: dict[str, str]) -> Form:
    """A form with one mode select per category the user can set."""

    class PreferencesForm(Form):
        pass

    for category in categories:
        setattr(
            PreferencesForm,
            category.name,
            SelectField(
                category.label,
                choices=MODE_CHOICES,
                default=current.get(category.name, DeliveryMode.email.value),
                description=category.help,
                validators=[InputRequired()],
            ),
        )
    return PreferencesForm()
