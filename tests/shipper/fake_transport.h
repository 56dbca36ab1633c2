#pragma once
// An in-memory Transport for drain tests: answers from a script, records
// every request (with the gzip body inflated) and never touches the network.

#include <deque>
#include <functional>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "http/transport.h"
#include "support/gzip_body.h"

namespace arcade::testing {

struct SeenRequest {
    http::Request request;
    std::string json;                  // inflated body
    std::vector<std::string> uuids;    // batch[i].uuid
    std::vector<std::string> events;   // batch[i].event
    std::vector<std::string> distinct; // batch[i].distinct_id
};

class FakeTransport : public http::Transport {
public:
    // Answers in order; when the script is exhausted, `respond` decides (200 by default).
    std::deque<http::Response> script;
    std::function<http::Response(const SeenRequest&)> respond;
    std::vector<SeenRequest> seen;

    http::Response send(const http::Request& req) override {
        SeenRequest s;
        s.request = req;
        bool gz = false;
        for (auto& [k, v] : req.headers) gz |= (k == "Content-Encoding" && v == "gzip");
        s.json = gz ? gunzip(req.body).text : req.body;
        rapidjson::Document d;
        d.Parse(s.json.c_str());
        if (!d.HasParseError() && d.IsObject() && d.HasMember("batch")) {
            for (auto& e : d["batch"].GetArray()) {
                s.uuids.push_back(e["uuid"].GetString());
                s.events.push_back(e["event"].GetString());
                s.distinct.push_back(e["distinct_id"].GetString());
            }
        }
        seen.push_back(s);
        if (!script.empty()) {
            auto r = script.front();
            script.pop_front();
            return r;
        }
        if (respond) return respond(s);
        http::Response ok;
        ok.status = 200;
        ok.body = "{\"status\":1}";
        return ok;
    }
    http::Response stream(const http::Request& req, const http::ChunkSink&) override { return send(req); }

    static http::Response status(int code, std::string retry_after = "") {
        http::Response r;
        r.status = code;
        if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
        return r;
    }
    static http::Response network_error() {
        http::Response r;
        r.failure = http::Failure::connect;
        r.error = "Couldn't connect to server";
        return r;
    }
};

}  // namespace arcade::testing
