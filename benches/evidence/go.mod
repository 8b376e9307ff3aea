module debrief/benches/evidence

go 1.19
