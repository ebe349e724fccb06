using Microsoft.Extensions.Options;
using Personalizer.Gateway;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();

builder.Services.AddSingleton<ILoadBalancingPolicy, VisitorHashPolicy>();
builder.Services.AddReverseProxy().LoadFromMemory(GatewayConfig.Routes(), [GatewayConfig.Cluster(options)]);

var app = builder.Build();
app.MapGet("/gateway/healthz", () => Results.Text("Healthy"));
app.MapGet("/gateway/nodes", (Yarp.ReverseProxy.IProxyStateLookup state) =>
{
    state.TryGetCluster(GatewayConfig.ClusterId, out var cluster);
    return Results.Json(
        cluster?.Destinations.Values.Select(d => new NodeStatus(d.DestinationId, d.Model.Config.Address, d.Health.Active.ToString(), d.Health.Passive.ToString(), d.ConcurrentRequestCount)).ToArray() ?? [],
        GatewayJsonContext.Default.NodeStatusArray);
});
app.MapReverseProxy(proxy =>
{
    proxy.Use(RetryOnUnreachableNode.InvokeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});
app.Run();
