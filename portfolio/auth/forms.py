"""Account forms. Field rules beyond presence and length live in auth.rules."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form
from .rules import PASSWORD_MAX


class SignupForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    handle = StringField(
        "Public handle",
        validators=[DataRequired(), Length(min=3, max=30)],
        description="Your public address: /u/<handle>. Lowercase letters, digits and dashes.",
    )
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=PASSWORD_MAX)],
        description="At least 10 characters. A few uncommon words work well.",
    )
    timezone = StringField("Time zone", default="UTC", validators=[Length(max=64)])


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in")


class ProfileForm(Form):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=80)])
    handle = StringField("Public handle", validators=[DataRequired(), Length(min=3, max=30)])
    timezone = StringField(
        "Time zone",
        validators=[DataRequired(), Length(max=64)],
        description="An IANA name, e.g. Europe/Berlin. Deadlines are shown in this zone.",
    )
    bio = TextAreaField("Short bio", validators=[Length(max=500)])
    looking_for = StringField(
        "What I'm looking for",
        validators=[Length(max=140)],
        description="One line on your profile, e.g. “Junior ML roles in Berlin or remote”.",
    )
    github_url = URLField("GitHub", validators=[Length(max=300)])
    linkedin_url = URLField("LinkedIn", validators=[Length(max=300)])
    website_url = URLField("Personal site", validators=[Length(max=300)])


class AvatarForm(Form):
    image = FileField(
        "Photo (PNG, JPEG, WebP or GIF)",
        validators=[FileRequired()],
        description="Cut to a square from the middle and scaled down; photo metadata is removed.",
    )


class PasswordForm(Form):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )


class ForgotForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class ResetForm(Form):
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=PASSWORD_MAX)],
        description="At least 10 characters. A few uncommon words work well.",
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )


class EmailChangeForm(Form):
    new_email = EmailField("New email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
