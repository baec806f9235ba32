"""The card agent: the part the national PKI middleware plays on a member's computer.

It talks to the civil ID card through PC/SC (pyscard and pcscd), speaking the APDUs of the
development card profile, and offers the identity provider's PIN pad page a small HTTP service
on 127.0.0.1: read the card's certificate, and have the card sign a login challenge after the
PIN typed on that page is verified by the card itself. The PIN never leaves this computer.
"""
