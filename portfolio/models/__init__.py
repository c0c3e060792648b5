"""SQLModel tables. Import every model here so metadata and Alembic see them."""

from .account import AdminLogEntry, EmailToken, HandleReservation, TokenPurpose, UserSession
from .discovery import ProjectSearch, ProjectTag
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
from .ops import SchedulerLease, SchedulerProcess
from .project import (
    MemberStatus,
    MetricGoal,
    Milestone,
    MilestoneFreeze,
    Project,
    ProjectImage,
    ProjectMember,
    ProjectSlug,
    Visibility,
)
from .recap import ProjectRecap
from .season import Enrollment, MentorAssignment, Season, SeasonKind
from .showcase import ShowcaseEntry
from .storage import StoredBlob
from .tracking import (
    ImportState,
    LinkKind,
    MetricSeries,
    OfflineImport,
    RunLink,
    RunSnapshot,
    SyncState,
    TrackerHost,
    TrackingCredential,
)
from .types import UTCDateTime, utcnow
from .user import Role, User

__all__ = [
    "EmailToken",
    "TokenPurpose",
    "UserSession",
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
    "ImportState",
    "LinkKind",
    "MetricSeries",
    "Notification",
    "NotificationPreference",
    "OfflineImport",
    "RunLink",
    "RunSnapshot",
    "SchedulerLease",
    "SchedulerProcess",
    "SyncState",
    "TrackerHost",
    "TrackingCredential",
    "Enrollment",
    "MemberStatus",
    "MentorAssignment",
    "MetricGoal",
    "Milestone",
    "MilestoneFreeze",
    "Project",
    "ProjectImage",
    "ProjectRecap",
    "ProjectMember",
    "ProjectSearch",
    "ProjectTag",
    "ProjectSlug",
    "Role",
    "Season",
    "SeasonKind",
    "ShowcaseEntry",
    "StoredBlob",
    "UTCDateTime",
    "User",
    "Visibility",
    "utcnow",
]
