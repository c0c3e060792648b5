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


class RunLinkForm(Form):
    ref = StringField(
        "W&B run link",
        validators=[DataRequired(message="Paste a W&B run link."), Length(max=2000)],
        description="e.g. https://wandb.ai/your-name/your-project/runs/abc123, "
        "or your-name/your-project/abc123",
    )
    label = StringField("Label", validators=[Length(max=120)], description=LABEL_HELP)
    hidden = BooleanField(HIDDEN_LABEL)


class ProjectLinkForm(Form):
    ref = StringField(
        "W&B project",
        validators=[DataRequired(message="Paste a W&B project link."), Length(max=2000)],
        description="e.g. https://wandb.ai/your-name/your-project, or your-name/your-project",
    )
    tags = StringField(
        "Only runs tagged",
        validators=[Length(max=700)],
        description=TAGS_HELP + " New runs appear on each sync.",
    )
    label = StringField("Label", validators=[Length(max=120)])
    hidden = BooleanField("Hide the runs it finds from the public page")


class LinkEditForm(Form):
    label = StringField("Label", validators=[Length(max=120)], description=LABEL_HELP)
    hidden = BooleanField(HIDDEN_LABEL)
    # Only a project link's row renders it; a form without the field keeps the tags.
    tags = StringField("Only runs tagged", validators=[Length(max=700)], description=TAGS_HELP)


class OfflineUploadForm(Form):
    archive = FileField(
        "Offline run (.zip)",
        validators=[FileRequired(message="Choose the .zip of your offline-run folder.")],
        description="Zip the wandb/offline-run-… folder your training wrote (it holds a "
        "run-<id>.wandb file) and upload it here.",
    )
    label = StringField("Label", validators=[Length(max=120)], description=LABEL_HELP)
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
    ref = StringField(
        "MLflow run link",
        validators=[DataRequired(message="Paste an MLflow run link."), Length(max=2000)],
        description="e.g. http://mlflow.example.org:5000/#/experiments/1/runs/0a1b2c…, "
        "or experiment_id/run_id on your one saved MLflow server",
    )
    label = StringField("Label", validators=[Length(max=120)], description=LABEL_HELP)
    hidden = BooleanField(HIDDEN_LABEL)


class MlflowExperimentForm(Form):
    ref = StringField(
        "MLflow experiment",
        validators=[DataRequired(message="Paste an MLflow experiment link."), Length(max=2000)],
        description="e.g. http://mlflow.example.org:5000/#/experiments/1, or its id (1)",
    )
    tags = StringField(
        "Only runs tagged",
        validators=[Length(max=700)],
        description="A tag key (portfolio) or key=value (stage=final); several, "
        "comma-separated, match any of them; empty follows every run.",
    )
    label = StringField("Label", validators=[Length(max=120)])
    hidden = BooleanField("Hide the runs it finds from the public page")


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
