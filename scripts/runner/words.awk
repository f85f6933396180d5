# words.awk: the text helpers config.awk and errata.awk share; loaded
# first, "-f words.awk -f config.awk", since awk has no include.

# set[word] = 1 for each space-separated word of text.
function words_to_set(text, set,    list, n, i) {
	n = split(text, list, " ")
	for (i = 1; i <= n; i++)
		set[list[i]] = 1
}

# text without its leading and trailing blanks.
function trim(text) {
	sub(/^[ \t]+/, "", text)
	sub(/[ \t]+$/, "", text)
	return text
}
