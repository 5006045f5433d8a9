"""A class on one server: who the users are and what each may do.

    access    a User (teacher or student), who may change which run, refusals logged
    roster    the accounts (argon2id password hashes, or the school's provider), logins, sessions
    uploads   a user's zip of images, kept by content within their quota, removed with its last run
"""
