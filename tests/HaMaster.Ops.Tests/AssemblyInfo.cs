// Every test class starts real master processes; two clusters at once on a 2-core machine only
// make elections flap. Classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
