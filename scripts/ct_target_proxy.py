"""A local proxy for eks-sim's CloudTrail endpoint that rewrites the X-Amz-Target header.

Workaround for an eks-sim gap (drill and bench only, never the product): the sim's CloudTrail
API accepts only the long target form (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.X`,
what awscli sends) while the Rust SDK sends the short one (`CloudTrail_20131101.X`), so the
creator search would never reach the sim's CloudTrail. Remove this once eks-sim accepts both.

Usage: python ct_target_proxy.py UPSTREAM_HOST UPSTREAM_PORT   (prints the port it listens on)
"""
import asyncio
import sys

SHORT = b"x-amz-target: CloudTrail_20131101."
LONG = b"x-amz-target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


async def pipe(reader, writer, rewrite):
    try:
        while data := await reader.read(65536):
            writer.write(data.replace(SHORT, LONG) if rewrite else data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(host, port):
    async def handle(client_r, client_w):
        up_r, up_w = await asyncio.open_connection(host, port)
        await asyncio.gather(pipe(client_r, up_w, True), pipe(up_r, client_w, False))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
