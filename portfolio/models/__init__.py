"""SQLModel tables. Import every model here so metadata and Alembic see them."""

from .account import AdminLogEntry, HandleReservation
from .discussion import (
    ApiToken,
    Comment,
    CommentPolicy,
    CommentReport,
    FeedbackRequest,
    Update,
)
from .notify import (
    CalendarFeed,
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from .project import (
    MemberStatus,
    MetricGoal,
    Milestone,
    Project,
    ProjectImage,
    ProjectMember,
    ProjectSlug,
    Visibility,
)
from .season import Enrollment, MentorAssignment, Season, SeasonKind
from .tracking import LinkKind, MetricSeries, RunLink, RunSnapshot, SyncState, TrackingCredential
from .types import UTCDateTime, utcnow
from .user import Role, User

__all__ = [
    "AdminLogEntry",
    "HandleReservation",
    "ApiToken",
    "Comment",
    "CommentPolicy",
    "CommentReport",
    "FeedbackRequest",
    "Update",
    "CalendarFeed",
    "Delivery",
    "DeliveryMode",
    "DeliveryStatus",
    "LinkKind",
    "MetricSeries",
    "Notification",
    "NotificationPreference",
    "RunLink",
    "RunSnapshot",
    "SyncState",
    "TrackingCredential",
    "Enrollment",
    "MemberStatus",
    "MentorAssignment",
    "MetricGoal",
    "Milestone",
    "Project",
    "ProjectImage",
    "ProjectMember",
    "ProjectSlug",
    "Role",
    "Season",
    "SeasonKind",
    "UTCDateTime",
    "User",
    "Visibility",
    "utcnow",
]
