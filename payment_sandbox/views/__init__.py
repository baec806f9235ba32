"""The sandbox gateway's pages."""


def includeme(config):
    config.add_static_view('static', 'payment_sandbox:static/')
    config.include('.checkout')
    config.include('.steps')
    config.include('.receipt')
    config.include('.query')
    if config.registry.payment_sandbox.test_switches:
        config.include('.switches')
