# Reference values for causalinfer.stats.lr_test: anova(restricted, full, test = "Chisq") for nested glm fits
# (binomial on mtcars, Poisson on warpbreaks), for lm, and anova() of two MASS::glm.nb fits (theta estimated in
# each; the likelihood-ratio statistic is the difference of 2 * log-likelihoods).
# Run from the repository root:  Rscript tests/reference/lr_test.R
suppressMessages(library(MASS))
library(jsonlite)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
mt <- mtcars
wb <- warpbreaks
a <- function(tab) list(statistic = tab$Deviance[2], df = tab$Df[2], pvalue = tab[["Pr(>Chi)"]][2])
lg0 <- glm(am ~ hp, family = binomial, data = mt, control = ctl)
lg1 <- glm(am ~ wt + hp, family = binomial, data = mt, control = ctl)
ps0 <- glm(breaks ~ wool, family = poisson, data = wb, control = ctl)
ps1 <- glm(breaks ~ wool * tension, family = poisson, data = wb, control = ctl)
ol0 <- lm(mpg ~ wt, data = mt)
ol1 <- lm(mpg ~ wt + hp + qsec, data = mt)
tol <- anova(ol0, ol1, test = "Chisq")
q <- quine
nb0 <- glm.nb(Days ~ Eth + Sex, data = q, control = glm.control(epsilon = 1e-12, maxit = 100))
nb1 <- glm.nb(Days ~ Eth + Sex + Age + Lrn, data = q, control = glm.control(epsilon = 1e-12, maxit = 100))
tnb <- anova(nb0, nb1)
out <- list(r_version = R.version.string, mtcars = mt, warpbreaks = wb, quine = q,
            logit = a(anova(lg0, lg1, test = "Chisq")), poisson = a(anova(ps0, ps1, test = "Chisq")),
            ols = list(statistic = tol[["Sum of Sq"]][2] / (tol$RSS[2] / tol$Res.Df[2]), df = tol$Df[2], pvalue = tol[["Pr(>Chi)"]][2]),
            negbin = list(statistic = tnb[["LR stat."]][2], df = tnb[["   df"]][2], pvalue = tnb[["Pr(Chi)"]][2]))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/lr_test.json")
