// Submit the page's relay form at once; the button stays for browsers without script.
document.getElementById('acs-relay').submit();
