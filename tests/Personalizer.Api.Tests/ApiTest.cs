namespace Personalizer.Api.Tests;

/// <summary>A test class with its own in-process service and a client for each kind of key.</summary>
public abstract class ApiTest : IAsyncLifetime, IDisposable
{
    protected ApiTest(PersonalizerApp? app = null)
    {
        App = app ?? new PersonalizerApp();
        Admin = App.Client(PersonalizerApp.AdminKey);
        Site = App.Client(PersonalizerApp.SiteKey);
    }

    protected PersonalizerApp App { get; }

    /// <summary>A client with the demo site's admin key.</summary>
    protected HttpClient Admin { get; }

    /// <summary>A client with the demo site's public key.</summary>
    protected HttpClient Site { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync() => await App.DisposeAsync();

    public void Dispose()
    {
        App.Dispose();
        GC.SuppressFinalize(this);
    }
}
