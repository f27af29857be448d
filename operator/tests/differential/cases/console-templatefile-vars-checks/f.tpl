hi ${x}
