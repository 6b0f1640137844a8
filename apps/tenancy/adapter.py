"""django-allauth, adapted: failed logins are counted per account *and* client address.

allauth counts them per account alone by default, so anyone who knows a user's email can lock that user
out with a few wrong passwords. Keyed by (address, email), a stranger's failures stop only the stranger;
ACCOUNT_RATE_LIMITS still caps each address across every account.
"""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # The one key allauth uses to count, roll back (after a success) and clear (after a password
        # reset) failed logins; the client address comes from allauth's own trusted-proxy settings.
        return (
            f"{self.get_client_ip(request)}|{super()._get_login_attempts_cache_key(request, **credentials)}"
        )
