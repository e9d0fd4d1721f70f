"""Logins under a lockout: django-axes, keyed on the user name and the client's address.

Every way in counts its failures in axes' table (AccessAttempt): the researchers' login page
and the admin's (forms.py), and the API's token authentication (tokens.py; the API takes no
passwords: no HTTP Basic, see settings.REST_FRAMEWORK). After settings.LOGIN_FAILURE_LIMIT
failures for one user name from one address, that pair is refused, a right password too (else a
guesser would still learn when it guessed right), until settings.LOGIN_LOCKOUT_SECONDS after its
last counted failure; refused attempts do not count, so the lockout does not grow while someone
keeps trying. Other people at the same (campus, NAT) address log in as usual. One user name
guessed from many addresses is capped too: settings.LOGIN_USER_FAILURE_LIMIT failures from any
addresses lock that name everywhere (handler.py). Pages answer a refusal with their message, 429
and Retry-After. Staff see and reset lockouts in the admin (admin.py).

Checking the lockout, checking the password and counting the failure happen for one (user name,
address) at a time (lockout.one_at_a_time): axes alone reads the count, checks the password and
then writes, so parallel guesses all passed the check before any was counted.
"""
