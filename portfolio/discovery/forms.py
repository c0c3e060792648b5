"""The tags form on the project edit page."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length

from ..forms import Form
from .tags import MAX_TAG_CHARS, MAX_TAGS


class TagsForm(Form):
    tags = StringField(
        "Tags",
        description=f"Up to {MAX_TAGS} topics, separated by commas (e.g. NLP, time series); "
        f"{MAX_TAG_CHARS} characters each.",
        validators=[Length(max=(MAX_TAG_CHARS + 2) * MAX_TAGS)],
    )
