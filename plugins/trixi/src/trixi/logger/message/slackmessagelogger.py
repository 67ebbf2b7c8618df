"""``trixi.logger.message.slackmessagelogger``: trixi's SlackMessageLogger on :class:`trialog_slack.SlackLogger`."""

from __future__ import annotations

from typing import Any

from trialog.errors import ConfigError

from .._dispatched import backend
from ._chat import ChatLogger, token_variable

_slack = backend("trialog_slack", "trialog-slack", "trixi.logger.message.slackmessagelogger")


def _not_provided(method: str, why: str) -> ConfigError:
    return ConfigError(f"SlackMessageLogger.{method} is not provided by trialog-trixi: {why}")


class SlackMessageLogger(ChatLogger):
    """trixi's ``SlackMessageLogger(token, user_email, exp_name=None)``: posts to the direct messages of
    the workspace member ``user_email``, each post prefixed with ``exp_name``.

    :class:`trialog_slack.SlackLogger` posts from its own thread (a slow or failing Slack never stalls
    the caller); further keyword arguments are its options. ``token=None`` reads the token from
    ``SLACK_BOT_TOKEN`` (or the variable named by ``token_env``).
    """

    def __init__(
        self, token: str | None, user_email: str, exp_name: str | None = None, **kwargs: Any
    ) -> None:
        with token_variable(
            "slack", token, {"user_email": user_email, "title": exp_name, **kwargs}
        ) as options:
            logger = _slack.SlackLogger(**options)
        super().__init__(logger, "slack")
        self.exp_name = exp_name
        self.user_email = user_email

    def send_message(self, message: str = "", file: Any = None) -> None:
        """Post ``message``, and the PNG file ``file`` when given. Returns None: posts leave from the
        logger's thread, so Slack's timestamp is not known at the call."""
        if message:
            self.show_text(message)
        if file is not None:
            self.show_image(file)

    def delete_message(self, ts: str) -> None:
        """Not provided (posts are replaced per name with ``delete_last``)."""
        raise _not_provided("delete_message", "posts of a name are replaced by the next one (delete_last)")

    @staticmethod
    def find_uid_for_email(slack_client: Any, email: str) -> str:
        """Not provided (the logger looks the user up itself from ``user_email``)."""
        raise _not_provided("find_uid_for_email", "the logger looks up user_email itself")

    @staticmethod
    def find_cid_for_user(slack_client: Any, uid: str) -> str:
        """Not provided (the logger opens the direct message itself)."""
        raise _not_provided("find_cid_for_user", "the logger opens the direct message itself")


__all__ = ["SlackMessageLogger"]
