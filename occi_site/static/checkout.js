// Go on to the gateway at once; the button stays for browsers without script.
document.getElementById('gateway-checkout').submit();
