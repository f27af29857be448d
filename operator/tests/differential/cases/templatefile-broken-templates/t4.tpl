x ${a}
${b c}
