using Fleetkey.Cli;

return await FleetkeyCommands.CreateRoot().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration
{
    // ASP.NET Core's console lifetime handles SIGINT/SIGTERM and drains requests; System.CommandLine must not race it.
    ProcessTerminationTimeout = null,
});
