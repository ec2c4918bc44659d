# Writes the R series shipped in datasets/ (run from datasets/: Rscript ../scripts/export-r-datasets.R).
# Needs R with the forecast package (Debian: r-cran-forecast). Values are written exactly as R holds them.
suppressMessages(library(forecast))
w <- function(x, file, col) {
  tt <- time(x); f <- frequency(x)
  yr <- floor(round(tt * f) / f + 1e-9); cyc <- round((tt - yr) * f)
  month <- if (f == 12) cyc + 1 else if (f == 4) cyc * 3 + 1 else stop("freq")
  d <- sprintf("%04d-%02d-01", as.integer(yr), as.integer(month))
  df <- data.frame(d, as.numeric(x)); names(df) <- c("date", col)
  write.csv(df, file, row.names = FALSE, quote = FALSE)
}
w(AirPassengers, "air-passengers.csv", "passengers")
w(wineind, "australian-wine-sales.csv", "litres")
w(gas, "australian-gas-production.csv", "gas")
w(UKgas, "uk-gas-consumption.csv", "gas")
w(USAccDeaths, "us-accidental-deaths.csv", "deaths")
w(nottem, "nottingham-temperature.csv", "temperature")
w(woolyrnq, "australian-woollen-yarn.csv", "tonnes")
w(JohnsonJohnson, "johnson-johnson-earnings.csv", "earnings")
