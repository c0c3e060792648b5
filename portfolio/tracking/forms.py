"""Forms for linking runs, importing offline runs and saving a W&B key.

Forms on one page carry a prefix ("run-ref", "project-ref", ...) so their fields never share
an HTML id. Length limits here give early, per-field messages; the services check again.
"""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length

from ..forms import Form

LABEL_HELP = "Shown instead of the run's W&B name (optional)."
HIDDEN_LABEL = "Hide from the public page (members still see it)"
TAGS_HELP = (
    "e.g. portfolio. Several tags, comma-separated, match any of them; empty follows every run."
)


def _ref(label: str, missing: str, example: str) -> StringField:
    """The pasted link (or id) of a run or a project to follow, W&B or MLflow alike."""
    return StringField(
        label, validators=[DataRequired(message=missing), Length(max=2000)], description=example
    )


def _tags(description: str) -> StringField:
    return StringField("Only runs tagged", validators=[Length(max=700)], description=description)


def _label(description: str | None = LABEL_HELP) -> StringField:
    return StringField("Label", validators=[Length(max=120)], description=description or "")


FOLLOWED_HIDDEN = "Hide the runs it finds from the public page"


class RunLinkForm(Form):
    ref = _ref(
        "W&B run link",
        "Paste a W&B run link.",
        "e.g. https://wandb.ai/your-name/your-project/runs/abc123, "
        "or your-name/your-project/abc123",
    )
    label = _label()
    hidden = BooleanField(HIDDEN_LABEL)


class ProjectLinkForm(Form):
    ref = _ref(
        "W&B project",
        "Paste a W&B project link.",
        "e.g. https://wandb.ai/your-name/your-project, or your-name/your-project",
    )
    tags = _tags(TAGS_HELP + " New runs appear on each sync.")
    label = _label(None)
    hidden = BooleanField(FOLLOWED_HIDDEN)


class LinkEditForm(Form):
    label = _label()
    hidden = BooleanField(HIDDEN_LABEL)
    # Only a project link's row renders it; a form without the field keeps the tags.
    tags = _tags(TAGS_HELP)


class OfflineUploadForm(Form):
    archive = FileField(
        "Offline run (.zip)",
        validators=[FileRequired(message="Choose the .zip of your offline-run folder.")],
        description="Zip the wandb/offline-run-… folder your training wrote (it holds a "
        "run-<id>.wandb file) and upload it here.",
    )
    label = _label()
    hidden = BooleanField(HIDDEN_LABEL)


class CredentialForm(Form):
    base_url = URLField(
        "W&B server",
        default="https://api.wandb.ai",
        validators=[DataRequired(), Length(max=300)],
        description="https://api.wandb.ai for W&B's cloud, or your W&B Server's address.",
    )
    api_key = PasswordField(
        "API key",
        validators=[DataRequired(message="Paste your W&B API key."), Length(max=300)],
        description="From your W&B user settings → API keys. Stored encrypted; "
        "never shown again (only its last 4 characters).",
    )


class MlflowRunForm(Form):
    ref = _ref(
        "MLflow run link",
        "Paste an MLflow run link.",
        "e.g. http://mlflow.example.org:5000/#/experiments/1/runs/0a1b2c…, "
        "or experiment_id/run_id on your one saved MLflow server",
    )
    label = _label()
    hidden = BooleanField(HIDDEN_LABEL)


class MlflowExperimentForm(Form):
    ref = _ref(
        "MLflow experiment",
        "Paste an MLflow experiment link.",
        "e.g. http://mlflow.example.org:5000/#/experiments/1, or its id (1)",
    )
    tags = _tags(
        "A tag key (portfolio) or key=value (stage=final); several, "
        "comma-separated, match any of them; empty follows every run."
    )
    label = _label(None)
    hidden = BooleanField(FOLLOWED_HIDDEN)


class MlflowServerForm(Form):
    base_url = URLField(
        "MLflow server",
        validators=[DataRequired(message="Enter the MLflow server's address."), Length(max=300)],
        description="The address you open the MLflow UI on, e.g. http://mlflow.example.org:5000.",
    )
    token = PasswordField(
        "Token (optional)",
        validators=[Length(max=2000)],
        description="A bearer token, e.g. a Databricks personal access token.",
    )
    username = StringField("User name (optional)", validators=[Length(max=2000)])
    password = PasswordField(
        "Password (optional)",
        validators=[Length(max=2000)],
        description="For servers with basic auth. Stored encrypted; never shown again.",
    )
