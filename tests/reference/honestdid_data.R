# The event-study estimates bundled with R's HonestDiD (Benzarti and Carloni; Lovenheim and Willen), written as CSV
# for tests/reference/honestdid_reference.py. Run from the package's data directory:
#   Rscript honestdid_data.R BCdata_EventStudy.rda LWdata_EventStudy.rda
args <- commandArgs(trailingOnly = TRUE)
for (f in args) {
  e <- new.env()
  load(f, envir = e)
  d <- get(ls(e)[1], envir = e)
  out <- cbind(betahat = as.numeric(d$betahat), n_pre = length(d$prePeriodIndices), unname(d$sigma))
  write.csv(out, file.path("tests/reference", paste0("honestdid_", sub("data_EventStudy", "", sub("\\.rda$", "", basename(f))), ".csv")),
            row.names = FALSE)
}
