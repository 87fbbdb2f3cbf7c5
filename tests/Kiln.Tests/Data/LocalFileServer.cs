using System.Net;
using System.Net.Sockets;

namespace Kiln.Tests.Data;

/// <summary>
/// An HTTP server on 127.0.0.1 for download tests (no test touches the internet): serves byte arrays by
/// path, answers 404 for anything else, and can break a transfer off halfway after announcing the full length.
/// </summary>
internal sealed class LocalFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = new();
    private readonly HashSet<string> _truncated = new();
    private readonly Thread _thread;
    private int _requests;

    internal LocalFileServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseAddress = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseAddress);
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    internal string BaseAddress { get; }

    internal int Requests => Volatile.Read(ref _requests);

    internal void Add(string path, byte[] bytes, bool truncate = false)
    {
        lock (_files)
        {
            _files[path] = bytes;
            if (truncate) _truncated.Add(path);
        }
    }

    private void Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            Interlocked.Increment(ref _requests);
            var path = context.Request.Url!.AbsolutePath.TrimStart('/');
            byte[]? bytes;
            bool truncate;
            lock (_files)
            {
                _files.TryGetValue(path, out bytes);
                truncate = _truncated.Contains(path);
            }
            var response = context.Response;
            try
            {
                if (bytes is null)
                {
                    response.StatusCode = 404;
                    response.Close();
                    continue;
                }
                response.ContentLength64 = bytes.Length;
                if (truncate)
                {
                    response.OutputStream.Write(bytes, 0, bytes.Length / 2);
                    response.OutputStream.Flush();
                    response.Abort();
                    continue;
                }
                response.OutputStream.Write(bytes);
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away; nothing to clean up.
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _thread.Join();
    }
}
