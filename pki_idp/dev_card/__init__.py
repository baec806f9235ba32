"""The development card reader stack: emulated civil ID cards in a virtual reader.

- `issuer`: the development national CA and one card (key pair and certificate) per test person;
- `card`: the civil ID card itself, answering the profile's APDUs;
- `pcscd`: a pcscd private to one folder, whose "Virtual PCD" reader is Debian's vpcd driver;
- `slot`: puts a card into that virtual reader (a TCP connection to vpcd) and takes it out;
- `control`: the card process's control socket, through which the IdP's development page
  chooses whose card is in the reader;
- `script`: the occi-dev-card command (issue, pcscd, serve).

Nothing here is used by a production configuration.
"""
