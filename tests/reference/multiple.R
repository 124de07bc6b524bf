# Reference values for causalinfer.stats.adjust_pvalues from R's p.adjust.
# Run from the repository root:  Rscript tests/reference/multiple.R
library(jsonlite)
set.seed(20261128)
methods <- c("bonferroni", "holm", "hochberg", "hommel", "BH", "BY")
vectors <- list()
for (k in 1:40) {
  m <- sample(c(1:6, 10, 25, 60), 1)
  p <- runif(m)^sample(c(1, 2, 4), 1)
  if (k %% 3 == 0) p <- round(p, 1)              # many ties
  if (k %% 4 == 0) p[sample(m, max(1, m %/% 5))] <- NA   # missing values stay in place
  if (k %% 7 == 0) p[sample(m, 1)] <- 0
  if (k %% 9 == 0) p[sample(m, 1)] <- 1
  vectors[[k]] <- p
}
vectors[[41]] <- c(0.01, 0.01, 0.04, 0.04, 0.04, 0.5)
vectors[[42]] <- c(NA, NA, 0.03)
vectors[[43]] <- c(0.02, NA, 0.04)
vectors[[44]] <- numeric(0)
cases <- lapply(vectors, function(p) {
  list(p = p, adjusted = setNames(lapply(methods, function(mt) p.adjust(p, mt)), methods))
})
out <- list(generated_by = "tests/reference/multiple.R", r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = FALSE, digits = NA, na = "null", pretty = FALSE), "tests/reference/multiple.json")
